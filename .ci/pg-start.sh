#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 cluster on 127.0.0.1:5432 and creates the
# collide role and database used by the tests. Idempotent.
set -euo pipefail
if ! pg_lsclusters -h | awk '$1==15 && $2=="main"' | grep -q online; then
  pg_ctlcluster 15 main start
fi
for i in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p 5432 -q && break
  sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='collide'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE collide LOGIN SUPERUSER PASSWORD 'collide'\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='collide'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE DATABASE collide OWNER collide\""
# Enough connections for racing workers plus parallel test packages.
