#!/bin/sh
# Entry point of collide-postgres:test, a Debian PostgreSQL 15 that behaves
# like the official postgres image as far as testcontainers' postgres module
# can tell: POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB create a password
# superuser and a database; the first start initialises the cluster with a
# temporary server bound to the Unix socket only, so "database system is
# ready to accept connections" is logged twice (the module waits for two);
# then the real server listens on every interface. Runs as user postgres.
set -eu
if [ "${1:-postgres}" != postgres ]; then
	exec "$@"
fi
[ $# -gt 0 ] && shift
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ -z "${POSTGRES_PASSWORD:-}" ]; then
	echo "collide-postgres: POSTGRES_PASSWORD is required" >&2
	exit 1
fi
export PGDATA
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	mkdir -p "$PGDATA"
	chmod 700 "$PGDATA"
	pwfile=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	initdb --no-sync --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
		--encoding=UTF8 --locale=C.UTF-8 >/dev/null
	rm -f "$pwfile"
	echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k /var/run/postgresql -c fsync=off" -w start
	if [ "$POSTGRES_DB" != postgres ]; then
		psql -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$POSTGRES_USER" -d postgres -qc "CREATE DATABASE \"$POSTGRES_DB\""
	fi
	pg_ctl -D "$PGDATA" -m fast -w stop
	echo "collide-postgres: init complete; ready for start up"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -k /var/run/postgresql "$@"
