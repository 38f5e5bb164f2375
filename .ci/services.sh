#!/usr/bin/env bash
# Starts the servers the tests use, if they are installed, and creates the
# collide role and database. Idempotent; safe to run before every `make test`.
# Tests that need a server that is not running skip with the reason (outside
# CI) or fail (under CI=true).
set -uo pipefail

start_postgres() {
  command -v pg_ctlcluster >/dev/null || { echo "services: PostgreSQL not installed; its tests will skip" >&2; return 0; }
  local ver
  ver=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1{print $1}')
  [ -n "$ver" ] || { echo "services: no PostgreSQL cluster found" >&2; return 0; }
  if ! pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main"' | grep -q online; then
    if [ "$(id -u)" = 0 ]; then
      pg_ctlcluster "$ver" main start || { echo "services: could not start PostgreSQL $ver" >&2; return 0; }
    else
      echo "services: PostgreSQL $ver is down and starting it needs root" >&2; return 0
    fi
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  [ "$(id -u)" = 0 ] || return 0
  su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='collide'\"" | grep -q 1 ||
    su postgres -c "psql -qc \"CREATE ROLE collide LOGIN SUPERUSER PASSWORD 'collide'\""
  su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='collide'\"" | grep -q 1 ||
    su postgres -c "psql -qc \"CREATE DATABASE collide OWNER collide\""
  # Test packages run in parallel, each starting demo services with their own
  # pools: 100 connections is not enough.
  if [ "$(su postgres -c "psql -qtAc 'SHOW max_connections'")" -lt 400 ]; then
    su postgres -c "psql -qc 'ALTER SYSTEM SET max_connections = 400'"
    pg_ctlcluster "$ver" main restart
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
}

start_postgres
exit 0
