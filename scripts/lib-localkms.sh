# shellcheck shell=bash
# Starts an AWS-KMS-compatible server (github.com/nsmithuk/local-kms, served by
# the command of the nested module kms/awskms/localkms) on 127.0.0.1 for the
# end-to-end tests. Source lib-common.sh first. Functions only.

# localkms_start builds the server, starts it on a free loopback port over a
# fresh temporary directory, registers its stop with on_exit, and exports
# PIIGUARD_TEST_AWSKMS_ENDPOINT.
localkms_start() {
	local dir port attempt
	dir=$(mktemp -d "${TMPDIR:-/tmp}/piiguard-localkms.XXXXXX")
	on_exit "rm -rf '$dir'"
	log "building kms/awskms/localkms/cmd/localkms"
	(cd kms/awskms/localkms && go build -o "$dir/localkms" ./cmd/localkms) || die "building localkms failed"
	mkdir "$dir/data"
	for attempt in 1 2 3 4 5; do
		port=$(random_port)
		"$dir/localkms" -addr "127.0.0.1:$port" -dir "$dir/data" 2>"$dir/server.log" &
		LOCALKMS_PID=$!
		local i
		for i in $(seq 1 100); do
			if port_in_use "$port"; then
				on_exit "localkms_stop"
				export PIIGUARD_TEST_AWSKMS_ENDPOINT="http://127.0.0.1:$port"
				log "local-kms ready on 127.0.0.1:$port (pid $LOCALKMS_PID)"
				return 0
			fi
			kill -0 "$LOCALKMS_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$LOCALKMS_PID" 2>/dev/null || true
		wait "$LOCALKMS_PID" 2>/dev/null || true
		log "local-kms did not start on port $port (attempt $attempt)"
	done
	cat "$dir/server.log" >&2
	die "local-kms did not start"
}

# localkms_stop stops the server localkms_start started.
localkms_stop() {
	[[ -n ${LOCALKMS_PID:-} ]] || return 0
	log "stopping local-kms (pid $LOCALKMS_PID)"
	kill "$LOCALKMS_PID" 2>/dev/null || true
	wait "$LOCALKMS_PID" 2>/dev/null || true
	LOCALKMS_PID=
}
