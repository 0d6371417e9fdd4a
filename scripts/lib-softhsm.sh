# shellcheck shell=bash
# Sets up a throwaway SoftHSM2 token for the PKCS#11 backend's tests.
# Source lib-common.sh first. Functions only.

SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

# softhsm_packages prints the Debian packages missing for softhsm_setup.
softhsm_packages() {
	command -v softhsm2-util >/dev/null && [[ -f $SOFTHSM_MODULE ]] || echo softhsm2
}

# softhsm_setup makes a token directory in a fresh temporary directory,
# initializes the token "piiguard-test" (user PIN 1234, SO PIN 5678) in the
# first free slot, registers the directory's removal with on_exit, and
# exports SOFTHSM2_CONF and PIIGUARD_TEST_PKCS11_{MODULE,TOKEN,PIN}.
softhsm_setup() {
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/piiguard-softhsm.XXXXXX")
	on_exit "rm -rf '$dir'"
	mkdir "$dir/tokens"
	cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
	export SOFTHSM2_CONF="$dir/softhsm2.conf"
	log "initializing SoftHSM2 token piiguard-test in $dir"
	softhsm2-util --init-token --free --label piiguard-test --pin 1234 --so-pin 5678 >/dev/null
	export PIIGUARD_TEST_PKCS11_MODULE=$SOFTHSM_MODULE
	export PIIGUARD_TEST_PKCS11_TOKEN=piiguard-test
	export PIIGUARD_TEST_PKCS11_PIN=1234
}
