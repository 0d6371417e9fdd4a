#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time each.
# Usage: scripts/fuzz.sh [duration, default 10s]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime=${1:-10s}
status=0
while IFS= read -r pkg; do
	dir=${pkg#github.com/piiguard/piiguard}
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "== $pkg $target"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./${dir#/}" || status=1
	done
done < <(go list ./...)
exit "$status"
