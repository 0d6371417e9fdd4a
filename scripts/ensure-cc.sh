#!/usr/bin/env bash
# Makes sure a C compiler is there for cgo: kms/pkcs11 binds the PKCS#11 C
# API, so `go vet ./...` and `go test ./...` need gcc. Installs it with
# apt-get when run as root on Debian; otherwise says what to install.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib-common.sh
source "$here/lib-common.sh"

if command -v "${CC:-gcc}" >/dev/null 2>&1; then
	exit 0
fi
if is_root && command -v apt-get >/dev/null 2>&1; then
	apt_install gcc libc6-dev
	exit 0
fi
die "no C compiler found: install gcc (sudo apt-get install gcc libc6-dev); kms/pkcs11 needs cgo"
