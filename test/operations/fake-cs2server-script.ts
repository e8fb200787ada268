// The POSIX sh body of the fake LinuxGSM control script (`cs2server`). fake-cs2server.ts bakes in the
// server's paths and port and installs it; the script reads cs2server.conf beside it at every run.
//
// Files beside the script (all in the server's own directory, owned by the SSH test user):
//   cs2server.conf  STEPS, INTERVAL (seconds, fractions allowed), EXIT_CODE of update/validate,
//                   IGNORE_TERM=1: update/validate ignore SIGTERM (a process that needs SIGKILL),
//                   REDRAW=1: each progress line is printed twice, first ended by a lone CR (a redraw)
//   cs2.pid         the fake cs2's pid (also its process group: it runs under setsid)
//   update.pid      `$$` of the running (or last) update/validate
//   helper.pid      its long-lived `sleep 600.<port>` child, which stands for SteamCMD: only a
//                   process-group kill ends it before the update does

/** sh single-quoting: every value baked into the script goes through it. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface ScriptValues {
  dir: string;
  binary: string;
  gamePort: number;
}

export function controlScript({ dir, binary, gamePort }: ScriptValues): string {
  return `#!/bin/sh
# Fake LinuxGSM cs2server for the cs2-ssh-pool tests.
DIR=${shQuote(dir)}
BIN=${shQuote(binary)}
PORT=${gamePort}
STEPS=5
INTERVAL=0.1
EXIT_CODE=0
IGNORE_TERM=0
REDRAW=0
[ -r "$DIR/cs2server.conf" ] && . "$DIR/cs2server.conf"

cmdline() { tr '\\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }
running_pid() {
  [ -f "$DIR/cs2.pid" ] || return 1
  pid=$(cat "$DIR/cs2.pid")
  case "$(cmdline "$pid")" in "$BIN "*) echo "$pid" ;; *) return 1 ;; esac
}

# Ready once the fake has exec'd and its sleep runs (until then a fork still carries the cs2 argv).
started() {
  pid=$(cat "$DIR/cs2.pid" 2>/dev/null) || return 1
  case "$(cmdline "$pid")" in "$BIN "*) ;; *) return 1 ;; esac
  for kid in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
    case "$(cmdline "$kid")" in 'sleep '*) return 0 ;; esac
  done
  return 1
}

do_start() {
  if pid=$(running_pid); then echo "[ INFO ] Starting cs2server: cs2server is already running (pid $pid)"; return 0; fi
  echo "[ .... ] Starting cs2server: $PORT"
  rm -f "$DIR/cs2.pid"
  # setsid: a session and process group of its own; /dev/null: the SSH channel may close at once.
  setsid sh -c 'echo $$ >"$1/cs2.pid"; shift; exec "$@"' start "$DIR" \\
    "$BIN" -c 'sleep 600 & wait' cs2 -dedicated -port "$PORT" +map de_dust2 </dev/null >/dev/null 2>&1 &
  tries=0
  until started; do
    tries=$((tries + 1))
    [ "$tries" -gt 250 ] && { echo "[ FAIL ] Starting cs2server: did not start" >&2; return 1; }
    sleep 0.02
  done
  echo "[  OK  ] Starting cs2server: pid $(cat "$DIR/cs2.pid")"
}

do_stop() {
  if ! pid=$(running_pid); then echo "[ INFO ] Stopping cs2server: cs2server is already stopped"; rm -f "$DIR/cs2.pid"; return 0; fi
  echo "[ .... ] Stopping cs2server: pid $pid"
  kill -TERM "-$pid" 2>/dev/null
  tries=0
  while running_pid >/dev/null; do # a zombie (nobody may reap it here) has an empty cmdline
    tries=$((tries + 1))
    [ "$tries" -gt 250 ] && kill -KILL "-$pid" 2>/dev/null
    sleep 0.02
  done
  rm -f "$DIR/cs2.pid"
  echo "[  OK  ] Stopping cs2server: stopped"
}

percent() { p=$(($1 * 10000 / STEPS)); printf '%d.%02d' $((p / 100)) $((p % 100)); }

do_update() { # $1 = update | validate
  # Ignored before the children start, so they inherit it: only SIGKILL ends this update.
  [ "$IGNORE_TERM" -eq 1 ] && trap '' TERM
  echo $$ >"$DIR/update.pid"
  sleep "600.$PORT" & # the port in its argv: the test can find it even after its pid file was overwritten
  echo $! >"$DIR/helper.pid"
  if [ "$1" = validate ]; then state='0x5) verifying install'; else state='0x61) downloading'; fi
  echo "[ .... ] $1: cs2server via SteamCMD"
  echo "WARNING: setlocale('en_US.UTF-8') failed, using locale: 'C'" >&2
  i=1
  while [ "$i" -le "$STEPS" ]; do
    sleep "$INTERVAL"
    line=" Update state ($state, progress: $(percent "$i") ($((i * 1000)) / $((STEPS * 1000)))"
    [ "$REDRAW" -eq 1 ] && printf '%s\r' "$line"
    echo "$line"
    i=$((i + 1))
  done
  kill "$(cat "$DIR/helper.pid")" 2>/dev/null
  if [ "$EXIT_CODE" -eq 0 ]; then
    echo "Success! App '730' fully installed."
  else
    echo "Error! App '730' state is 0x602 after update job." >&2
  fi
  exit "$EXIT_CODE"
}

case "$1" in
  start) do_start ;;
  stop) do_stop ;;
  restart) do_stop && do_start ;;
  update | validate) do_update "$1" ;;
  *) echo "Unknown command: $1" >&2; exit 2 ;;
esac
`;
}
