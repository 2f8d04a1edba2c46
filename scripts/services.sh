#!/usr/bin/env bash
# Makes sure the PostgreSQL and MariaDB servers the tests use are running on 127.0.0.1, starting
# them when they are stopped and installing them from Debian's packages when they are absent, and
# that Debian's Chromium is installed (the HTML run report's test opens it headless).
#   PostgreSQL 127.0.0.1:5432, user postgres without a password, database "test"
#   MariaDB    127.0.0.1:3306, user root with an empty password, database "test"
set -euo pipefail

log() { echo "services: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

wait_for() { # wait_for NAME COMMAND...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  log "$name did not come up"; return 1
}

apt_updated=0
install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

postgres_up() { pg_isready -h 127.0.0.1 -p 5432 -q; }

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    install postgresql
  fi
  if ! postgres_up; then
    log "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
    wait_for PostgreSQL postgres_up
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    # A fresh install asks for passwords on TCP; the tests log in as postgres without one.
    log "allowing local TCP logins without a password"
    local hba
    hba=$(as_root su postgres -c "psql -tAc 'show hba_file'")
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    as_root su postgres -c "psql -tAc 'select pg_reload_conf()'" >/dev/null
  fi
  if [ -z "$(psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname = 'test'")" ]; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database test'
  fi
}

mariadb_up() { mariadb-admin -h 127.0.0.1 -P 3306 -u root --connect-timeout=2 ping; }

ensure_mariadb() {
  if [ ! -x /usr/sbin/mariadbd ]; then
    install mariadb-server
  fi
  if ! mariadb-admin -h 127.0.0.1 -P 3306 -u nobody --connect-timeout=2 ping >/dev/null 2>&1; then
    log "starting MariaDB"
    as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for MariaDB mariadb-admin -h 127.0.0.1 -P 3306 -u nobody --connect-timeout=2 ping
  fi
  if ! mariadb_up >/dev/null 2>&1; then
    # A fresh install lets root in through the socket only; the tests connect over TCP.
    log "allowing root over TCP with an empty password"
    as_root mariadb -u root -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket; FLUSH PRIVILEGES;"
  fi
  mariadb -h 127.0.0.1 -P 3306 -u root -e 'CREATE DATABASE IF NOT EXISTS test'
}

# The HTML run report is checked in a real headless browser (RunReportPageTest).
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    install chromium
  fi
}

ensure_postgres
ensure_mariadb
ensure_chromium
log "PostgreSQL and MariaDB are up; Chromium is installed"
