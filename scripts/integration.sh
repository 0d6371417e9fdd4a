#!/usr/bin/env bash
# Runs the integration tests (go test -tags integration) against real
# servers that this script starts and stops itself:
#
#   - PostgreSQL 15, from /usr/lib/postgresql/15/bin, in a temporary
#     directory, on a free port of 127.0.0.1 (PIIGUARD_TEST_POSTGRES_DSN);
#   - a SoftHSM2 token for the PKCS#11 backend (SOFTHSM2_CONF,
#     PIIGUARD_TEST_PKCS11_MODULE, _TOKEN, _PIN);
#   - an AWS-KMS-compatible server (local-kms, built from the nested module
#     kms/awskms/localkms) on a free port of 127.0.0.1
#     (PIIGUARD_TEST_AWSKMS_ENDPOINT).
#
# Missing Debian packages (postgresql-15, softhsm2) are installed with
# apt-get when run as root (as `make integration` is in CI); as another
# user the script stops and says what to install.
#
# Usage: scripts/integration.sh [go test flags...]
#   PIIGUARD_INTEGRATION_PKGS  packages to test (default ./...), e.g.
#                              "./kms/sqlstore/ ./kms/pkcs11/"
#
# Whatever happens, everything started is stopped (by PID) and every
# temporary directory removed on exit; the exit status is go test's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib-common.sh
source "$here/lib-common.sh"
# shellcheck source=SCRIPTDIR/lib-postgres.sh
source "$here/lib-postgres.sh"
# shellcheck source=SCRIPTDIR/lib-softhsm.sh
source "$here/lib-softhsm.sh"
# shellcheck source=SCRIPTDIR/lib-localkms.sh
source "$here/lib-localkms.sh"

cd "$here/.."
command -v go >/dev/null || die "go is not on PATH"

trap run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck disable=SC2207
missing=($(pg_packages) $(softhsm_packages))
if ((${#missing[@]} > 0)); then
	pg_before_install
	apt_install "${missing[@]}"
fi

pg_start
softhsm_setup
localkms_start

read -ra pkgs <<<"${PIIGUARD_INTEGRATION_PKGS:-./...}"
log "go test -race -count=1 -tags integration ${pkgs[*]} $*"
status=0
go test -race -count=1 -tags integration "${pkgs[@]}" "$@" || status=$?
if ((status == 0)); then
	log "integration tests passed"
else
	log "integration tests failed (exit $status)"
fi
exit "$status"
