#!/usr/bin/env bash
# Installs (if missing), starts and prepares the MariaDB and Redis servers the
# invariants tests use: MariaDB on 127.0.0.1:3306 with user collide/collide
# owning database collide (and allowed to create the per-test databases), and
# Redis on 127.0.0.1:6379. Idempotent: safe to run before every `make test`.
# The tests read COLLIDE_TEST_MYSQL_DSN and COLLIDE_TEST_REDIS_URL, whose
# defaults are these servers. Exits non-zero when a server cannot be made
# ready, so CI stops with the reason instead of failing tests one by one.
set -uo pipefail

log() { echo "services-mariadb-redis: $*" >&2; }

need_root() {
  [ "$(id -u)" = 0 ] || { log "$1 needs root"; exit 1; }
}

install_missing() {
  local pkgs=()
  command -v mariadbd >/dev/null || command -v mysqld >/dev/null || [ -x /usr/sbin/mariadbd ] || pkgs+=(mariadb-server)
  command -v redis-server >/dev/null || pkgs+=(redis-server)
  [ ${#pkgs[@]} -eq 0 ] && return 0
  need_root "installing ${pkgs[*]}"
  log "installing ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || { log "apt-get update failed"; exit 1; }
  apt-get install -y -qq "${pkgs[@]}" >/dev/null || { log "apt-get install ${pkgs[*]} failed"; exit 1; }
}

mariadb_up() { mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u collide -pcollide ping >/dev/null 2>&1 ||
               mariadb-admin -u root ping >/dev/null 2>&1; }

start_mariadb() {
  if ! mariadb-admin -u root ping >/dev/null 2>&1 && ! mariadb_up; then
    need_root "starting MariaDB"
    # service works without systemd (the init.d script); fall back to
    # mysqld_safe where there is no init script.
    if ! service mariadb start >/dev/null 2>&1; then
      mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
      (mysqld_safe --bind-address=127.0.0.1 --port=3306 >/dev/null 2>&1 &)
    fi
    for _ in $(seq 1 60); do mariadb_up && break; sleep 1; done
    mariadb_up || { log "MariaDB did not start (see /var/log/mysql/error.log)"; exit 1; }
  fi
  if [ "$(id -u)" = 0 ] && mariadb -u root -e 'SELECT 1' >/dev/null 2>&1; then
    mariadb -u root <<'SQL' || { log "could not create the collide user and database"; exit 1; }
CREATE USER IF NOT EXISTS 'collide'@'127.0.0.1' IDENTIFIED BY 'collide';
CREATE USER IF NOT EXISTS 'collide'@'localhost' IDENTIFIED BY 'collide';
CREATE USER IF NOT EXISTS 'collide'@'::1' IDENTIFIED BY 'collide';
GRANT ALL PRIVILEGES ON *.* TO 'collide'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'collide'@'localhost';
GRANT ALL PRIVILEGES ON *.* TO 'collide'@'::1';
CREATE DATABASE IF NOT EXISTS collide;
SQL
  fi
  mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u collide -pcollide collide -e 'SELECT 1' >/dev/null 2>&1 ||
    { log "MariaDB is up but collide/collide cannot log in to database collide"; exit 1; }
  log "MariaDB ready on 127.0.0.1:3306 (collide/collide, database collide)"
}

start_redis() {
  if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    redis-server --daemonize yes --port 6379 --bind 127.0.0.1 --save '' --appendonly no --databases 64 \
      --logfile /tmp/collide-redis.log >/dev/null ||
      { log "redis-server did not start"; exit 1; }
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && break; sleep 0.5; done
  fi
  redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG ||
    { log "Redis is not answering on 127.0.0.1:6379 (see /tmp/collide-redis.log)"; exit 1; }
  log "Redis ready on 127.0.0.1:6379"
}

install_missing
start_mariadb
start_redis
exit 0
