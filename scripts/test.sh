#!/usr/bin/env bash
# Project test command (`npm test`). Prepares a real test environment, then runs jest:
#   * OpenSSH server + PostgreSQL server binaries and Chromium (apt-get installs them when root),
#   * local user cs2pooltest with a fresh random password and two ed25519 keypairs,
#   * a throwaway PostgreSQL cluster on 127.0.0.1 (TEST_POSTGRES_URL), stopped on exit.
# Arguments are passed to jest: `npm test -- test/support`, `bash scripts/test.sh -t pool`;
# `scripts/test.sh --run CMD…` runs CMD in the same prepared environment instead (benchmarks).
set -euo pipefail

# Overridable so that two checkouts can run their suites side by side (each its own user, sshd, cluster).
readonly RUN_DIR="${CS2_TEST_RUN_DIR:-/tmp/cs2-ssh-pool-test}"
readonly TEST_USER="${CS2_TEST_USER:-cs2pooltest}"
readonly PG_ROLE=cs2pool
readonly PG_DB=cs2pool_test
readonly PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '[test.sh] %s\n' "$*" >&2; }
die() { printf '[test.sh] ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }
random_secret() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }

APT_UPDATED=0
apt_install() { # apt_install <package>
  local pkg="$1"
  is_root || die "Debian package '$pkg' is required: run 'sudo apt-get install -y $pkg' (or run the tests as root)"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq </dev/null
    APT_UPDATED=1
  fi
  log "apt-get install $pkg"
  apt-get install -y -qq --no-install-recommends "$pkg" </dev/null >/dev/null
}

find_pg_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"; return 0
    fi
  done
  return 1
}

ensure_packages() {
  [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null || apt_install openssh-server
  [ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd still missing after installing openssh-server"
  PG_BIN="$(find_pg_bin)" || { apt_install postgresql; PG_BIN="$(find_pg_bin)"; } \
    || die "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin"
  # The API docs page is tested in a real headless browser (test/openapi/swagger-ui.e2e-spec.ts).
  command -v chromium >/dev/null || apt_install chromium
  command -v chromium >/dev/null || die "chromium still missing after installing Debian's chromium"
}

cleanup_previous_run() {
  # A previous run killed with SIGKILL may have left its cluster or sshd processes behind.
  if [ -f "$RUN_DIR/pg/data/postmaster.pid" ] && [ -n "${PG_BIN:-}" ]; then
    runuser -u "$(stat -c %U "$RUN_DIR/pg")" -- "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg/data" \
      stop -m immediate >/dev/null 2>&1 || true
  fi
  kill_harness_sshd
  rm -rf "$RUN_DIR"
}

kill_harness_sshd() {
  local file pid start stat fields
  # Listeners started by test/support/sshd.ts write PidFile sshd.pid.
  for file in "$RUN_DIR"/sshd-*/sshd.pid; do
    [ -f "$file" ] || continue
    pid="$(cat "$file" 2>/dev/null || true)"
    if [ -n "$pid" ] && grep -q "$RUN_DIR" "/proc/$pid/cmdline" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  # Connection processes a spec froze (SIGSTOP) never exit by themselves: "pid starttime" lines.
  for file in "$RUN_DIR"/sshd-*/frozen.pids; do
    [ -f "$file" ] || continue
    while read -r pid start; do
      stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
      read -r -a fields <<<"${stat##*) }" # fields[0] = state ... fields[19] = starttime
      [ "${fields[19]}" = "$start" ] && kill -KILL "$pid" 2>/dev/null || true
    done <"$file"
  done
}

ensure_test_user() {
  if ! id "$TEST_USER" >/dev/null 2>&1; then
    log "creating user $TEST_USER"
    useradd --create-home --shell /bin/bash --comment "cs2-ssh-pool test user" "$TEST_USER"
  fi
  [ -d "$(getent passwd "$TEST_USER" | cut -d: -f6)" ] || mkhomedir_fallback
  TEST_PASSWORD="$(random_secret)"
  printf '%s:%s\n' "$TEST_USER" "$TEST_PASSWORD" | chpasswd
}

mkhomedir_fallback() {
  local home; home="$(getent passwd "$TEST_USER" | cut -d: -f6)"
  mkdir -p "$home" && chown "$TEST_USER:" "$home" && chmod 0755 "$home"
}

prepare_run_dir() {
  mkdir -p "$RUN_DIR" /run/sshd
  chmod 0755 "$RUN_DIR"
  chmod 0755 /run/sshd
  KEY_PASSPHRASE="$(random_secret)"
  ssh-keygen -q -t ed25519 -N '' -C "$TEST_USER@cs2-ssh-pool-test" -f "$RUN_DIR/id_ed25519"
  ssh-keygen -q -t ed25519 -N "$KEY_PASSPHRASE" -C "$TEST_USER-enc@cs2-ssh-pool-test" \
    -f "$RUN_DIR/id_ed25519_enc"
  chmod 0600 "$RUN_DIR/id_ed25519" "$RUN_DIR/id_ed25519_enc"
  cat "$RUN_DIR/id_ed25519.pub" "$RUN_DIR/id_ed25519_enc.pub" >"$RUN_DIR/authorized_keys"
  chmod 0644 "$RUN_DIR/authorized_keys" "$RUN_DIR"/*.pub
  cat >"$RUN_DIR/user.json" <<EOF
{
  "username": "$TEST_USER",
  "password": "$TEST_PASSWORD",
  "privateKeyPath": "$RUN_DIR/id_ed25519",
  "publicKeyPath": "$RUN_DIR/id_ed25519.pub",
  "encryptedKeyPath": "$RUN_DIR/id_ed25519_enc",
  "encryptedKeyPassphrase": "$KEY_PASSPHRASE"
}
EOF
  chmod 0600 "$RUN_DIR/user.json"
}

free_port() {
  node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

pg_run() { (cd "$RUN_DIR" && runuser -u "$PG_OS_USER" -- "$@" 9>&-); } # 9 = run lock

start_postgres() {
  PG_OS_USER=postgres
  id "$PG_OS_USER" >/dev/null 2>&1 || PG_OS_USER="$TEST_USER"
  local pgdir="$RUN_DIR/pg" pg_password attempt
  mkdir -p "$pgdir/socket"
  chown -R "$PG_OS_USER:" "$pgdir"
  chmod 0700 "$pgdir"
  pg_password="$(random_secret)"
  printf '%s\n' "$pg_password" >"$pgdir/pwfile"
  chown "$PG_OS_USER:" "$pgdir/pwfile"
  pg_run "$PG_BIN/initdb" -D "$pgdir/data" -U "$PG_ROLE" --pwfile="$pgdir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --no-locale -E UTF8 --no-sync >"$pgdir/initdb.log" 2>&1 \
    || { cat "$pgdir/initdb.log" >&2; die "initdb failed"; }
  rm -f "$pgdir/pwfile"
  for attempt in 1 2 3; do
    PG_PORT="$(free_port)"
    if pg_run "$PG_BIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 30 start \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $pgdir/socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null; then
      PG_STARTED=1
      break
    fi
    log "postgres did not start on port $PG_PORT (attempt $attempt)"
  done
  [ "${PG_STARTED:-0}" -eq 1 ] || { tail -n 20 "$pgdir/postgres.log" >&2; die "could not start PostgreSQL"; }
  pg_run "$PG_BIN/createdb" -h "$pgdir/socket" -p "$PG_PORT" -U "$PG_ROLE" "$PG_DB"
  export TEST_POSTGRES_URL="postgres://$PG_ROLE:$pg_password@127.0.0.1:$PG_PORT/$PG_DB"
}

stop_postgres() {
  if [ "${PG_STARTED:-0}" -eq 1 ]; then
    pg_run "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg/data" stop -m fast -t 20 >/dev/null 2>&1 \
      || pg_run "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg/data" stop -m immediate >/dev/null 2>&1 || true
    PG_STARTED=0
  fi
}

summarize_results() { # the plain closing line CI reads: "jest: N passed, N failed, N skipped"
  [ -f "$1" ] || { log "jest wrote no results"; return 0; }
  node -e 'const r=JSON.parse(require("node:fs").readFileSync(process.argv[1],"utf8"));
    console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);' "$1"
}

on_exit() {
  local rc=$?
  stop_postgres
  kill_harness_sshd
  exit "$rc"
}

main() {
  ensure_packages
  is_root || die "scripts/test.sh must run as root: it creates the local user $TEST_USER, sets its password and runs sshd"
  # One run at a time: a second run would recreate $RUN_DIR and the password under the first one.
  exec 9>"$RUN_DIR.lock"
  if ! flock -n 9; then
    log "waiting for another test run to finish ($RUN_DIR.lock)"
    flock -w 900 9 || die "another scripts/test.sh run still holds $RUN_DIR.lock"
  fi
  cleanup_previous_run
  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ensure_test_user
  prepare_run_dir
  start_postgres
  export CS2_TEST_DIR="$RUN_DIR"
  log "environment ready: user $TEST_USER, postgres on 127.0.0.1:$PG_PORT, CS2_TEST_DIR=$RUN_DIR"
  cd "$PROJECT_DIR"
  local rc=0
  if [ "${1:-}" = "--run" ]; then # same environment, another command (npm run bench:pool)
    shift
    "$@" 9>&- || rc=$?
    return "$rc"
  fi
  # ts-jest transpiles file by file (isolatedModules); the whole tree is type-checked here once.
  npm run --silent typecheck 9>&- || return 1
  npm run --silent build 9>&- >/dev/null || return 1 # test/process runs dist/main.js as `npm start` does
  npm run --silent test:jest -- --json --outputFile="$RUN_DIR/jest-results.json" "$@" 9>&- || rc=$?
  summarize_results "$RUN_DIR/jest-results.json"
  return "$rc"
}

main "$@"
