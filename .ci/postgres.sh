#!/usr/bin/env bash
# Start the local PostgreSQL server when it is not running, then wait until it accepts
# connections. With CI=true a server that cannot be started is an error (the tests need it);
# elsewhere it is a warning and the PostgreSQL tests skip.
set -uo pipefail

HOST="${PGHOST:-127.0.0.1}"
PORT="${PGPORT:-5432}"

ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -h "$HOST" -p "$PORT" -q
  else
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
  fi
}

give_up() {
  echo "== postgresql: $1" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  exit 0
}

if ready; then
  echo "== postgresql: running on $HOST:$PORT"
  exit 0
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d /etc/postgresql ]; then
  give_up "not running and no local cluster to start (pg_ctlcluster missing)"
fi

version="$(ls /etc/postgresql | sort -V | tail -n 1)"
echo "== postgresql: starting cluster $version/main"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || give_up "pg_ctlcluster failed"

for _ in $(seq 1 60); do
  if ready; then
    echo "== postgresql: accepting connections on $HOST:$PORT"
    exit 0
  fi
  sleep 0.5
done
give_up "started but not accepting connections after 30 s"
