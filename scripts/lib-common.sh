# shellcheck shell=bash
# Helpers shared by the scripts in this directory. Source it; it defines
# functions only.

# log prints a progress line on stderr.
log() { printf '==> %s\n' "$*" >&2; }

# die prints an error and exits.
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# is_root reports whether the script runs as root.
is_root() { [[ $(id -u) -eq 0 ]]; }

# apt_install PKG... installs Debian packages, running `apt-get update` once
# per script run and only when something is to be installed. As non-root it
# fails with the command to run instead.
APT_UPDATED=
apt_install() {
	(($# > 0)) || return 0
	if ! is_root; then
		die "missing packages: $*; install them as root (sudo apt-get install $*) or run this script as root"
	fi
	command -v apt-get >/dev/null || die "missing packages: $* (and no apt-get: this script expects Debian 12)"
	if [[ -z $APT_UPDATED ]]; then
		log "apt-get update"
		apt-get update -qq >&2
		APT_UPDATED=1
	fi
	log "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# port_in_use PORT reports whether something accepts connections on
# 127.0.0.1:PORT.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# random_port prints a port in 20000–59999 that nothing listens on now. The
# caller must still cope with losing a race for it.
random_port() {
	local port i
	for i in $(seq 1 50); do
		port=$((20000 + RANDOM % 40000))
		if ! port_in_use "$port"; then
			echo "$port"
			return 0
		fi
	done
	die "found no free port on 127.0.0.1"
}

# random_hex N prints N random bytes as hex.
random_hex() {
	od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# CLEANUPS holds commands run, last first, by run_cleanups (the EXIT trap).
CLEANUPS=()
on_exit() { CLEANUPS+=("$1"); }
run_cleanups() {
	local i
	for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUPS[i]}" || true
	done
	CLEANUPS=()
}
