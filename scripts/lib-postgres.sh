# shellcheck shell=bash
# Starts a throwaway PostgreSQL 15 server for tests. Source lib-common.sh
# first. Functions only.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# pg_packages prints the Debian packages missing for pg_start.
pg_packages() {
	[[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/psql ]] || echo postgresql-15
}

# pg_before_install stops the Debian package from creating (and starting)
# its default cluster on port 5432 when it is installed: tests start their
# own server and nothing else should be left running.
pg_before_install() {
	is_root || return 0
	mkdir -p /etc/postgresql-common/createcluster.d
	echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/piiguard-no-main-cluster.conf
}

# as_pg CMD... runs a command as the user that owns the server: postgres
# when the script runs as root (PostgreSQL refuses to run as root), the
# current user otherwise.
as_pg() {
	if is_root; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start starts a server in a fresh temporary directory, listening on
# 127.0.0.1 only at a free port and on a Unix socket inside that
# directory, creates a role and a database for the tests, registers its
# stop with on_exit, and exports:
#
#	PIIGUARD_TEST_POSTGRES_DSN  postgres://piiguard:…@127.0.0.1:PORT/piiguard_test?sslmode=disable
#	PG_DIR, PG_PORT, PG_PID
pg_start() {
	if is_root; then
		id postgres >/dev/null 2>&1 || die "no postgres user: is postgresql-15 installed?"
	fi
	# Under /tmp, not $TMPDIR: the postgres user must reach it, and the
	# socket path must stay short.
	PG_DIR=$(mktemp -d /tmp/piiguard-pg.XXXXXX)
	on_exit "rm -rf '$PG_DIR'"
	mkdir "$PG_DIR/data" "$PG_DIR/run"
	if is_root; then
		chown -R postgres:postgres "$PG_DIR"
	fi
	chmod 700 "$PG_DIR"

	log "initdb in $PG_DIR"
	# Local (socket) connections are trusted: the socket lives in a
	# directory only the server's user can enter. TCP asks for a password.
	as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1 ||
		{
			cat "$PG_DIR/initdb.log" >&2
			die "initdb failed"
		}
	cat >>"$PG_DIR/data/postgresql.conf" <<CONF
# piiguard test server: loopback only, and fast rather than durable.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR/run'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF

	local attempt
	for attempt in 1 2 3 4 5; do
		PG_PORT=$(random_port)
		log "starting PostgreSQL 15 on 127.0.0.1:$PG_PORT"
		if as_pg "$PG_BIN/pg_ctl" start -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
			-o "-p $PG_PORT" >/dev/null; then
			break
		fi
		if grep -q 'could not bind\|Address already in use' "$PG_DIR/server.log" && ((attempt < 5)); then
			log "port $PG_PORT was taken; trying another"
			continue
		fi
		cat "$PG_DIR/server.log" >&2
		die "PostgreSQL did not start"
	done
	PG_PID=$(head -n1 "$PG_DIR/data/postmaster.pid")
	on_exit "pg_stop"

	local password
	password=$(random_hex 16)
	as_pg "$PG_BIN/psql" -h "$PG_DIR/run" -p "$PG_PORT" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
		-c "CREATE ROLE piiguard LOGIN PASSWORD '$password'" \
		-c "CREATE DATABASE piiguard_test OWNER piiguard" >/dev/null
	export PIIGUARD_TEST_POSTGRES_DSN="postgres://piiguard:$password@127.0.0.1:$PG_PORT/piiguard_test?sslmode=disable"
	export PG_DIR PG_PORT PG_PID
	log "PostgreSQL ready (pid $PG_PID)"
}

# pg_stop stops the server pg_start started: pg_ctl stop -m fast, then, if
# the postmaster is still there, SIGKILL to its PID.
pg_stop() {
	[[ -n ${PG_PID:-} ]] || return 0
	log "stopping PostgreSQL (pid $PG_PID)"
	as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DIR/data" -m fast -w -t 30 >/dev/null 2>&1 || true
	if kill -0 "$PG_PID" 2>/dev/null; then
		kill -KILL "$PG_PID" 2>/dev/null || true
	fi
	PG_PID=
}
