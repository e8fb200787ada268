import { shellQuote } from '../common/shell-quote.js';
import type { Action } from './operation.entity.js';

/** The environment variable that marks every process an operation starts (inherited by its children). */
export const OPERATION_MARK = 'CS2_SSH_POOL_OPERATION';

/**
 * The POSIX sh program every operation runs under: `$1` server id, `$2` operation id, `$3` grace in
 * tenths of a second, `$4` control script, `$5` action.
 *
 * A command whose SSH connection died (its replica was killed) keeps running on the host. So the
 * program records the operation's process group in `~/.cs2-ssh-pool/<server id>.operation` and
 * removes the record when the control script returns. A record still there at the next operation of
 * the server means the last one never returned: its process group is stopped (SIGTERM, SIGKILL after
 * the grace) before the control script runs, so that two never overlap. Only processes of that group
 * that carry that operation's mark count: a recycled group id is left alone, and so is what left the
 * group on purpose (LinuxGSM's `start` leaves the game server running in a session of its own).
 */
const WRAPPER = `
record="\${HOME:-/tmp}/.cs2-ssh-pool/$1.operation"
leftover() {
  group=$1 mark="${OPERATION_MARK}=$2"
  for d in /proc/[0-9]*; do
    read -r s <"$d/stat" || continue
    s=\${s##*) }
    set -f && set -- $s && set +f
    [ "$3" = "$group" ] && tr '\\0' '\\n' <"$d/environ" | grep -qx "$mark" && return 0
  done
  return 1
} 2>/dev/null
stop_leftover() {
  echo "cs2-ssh-pool: stopping what operation $2 left running on the host (process group $1)" >&2
  kill -TERM "-$1" 2>/dev/null
  n=$3
  while [ "$n" -gt 0 ] && leftover "$1" "$2"; do sleep 0.1; n=$((n - 1)); done
  kill -KILL "-$1" 2>/dev/null
  n=50
  while [ "$n" -gt 0 ] && leftover "$1" "$2"; do sleep 0.1; n=$((n - 1)); done
  [ "$n" -gt 0 ] || { echo "cs2-ssh-pool: process group $1 survived SIGKILL; not starting" >&2; exit 125; }
}
if read -r old_group old_operation 2>/dev/null <"$record" && leftover "$old_group" "$old_operation"; then
  stop_leftover "$old_group" "$old_operation" "$3"
fi
read -r s <"/proc/$$/stat" && s=\${s##*) } && set -f && set -- "$@" $s && set +f
mkdir -p -m 700 "\${record%/*}" && echo "$8 $2" >"$record" ||
  echo "cs2-ssh-pool: cannot write $record: a leftover of this operation could not be found again" >&2
# Outlive the control script: sshd signals the session's process group only while its first
# process runs (a SIGKILL after an ignored SIGTERM must still reach the script). Caught, not ignored:
# the script gets the default dispositions.
trap : TERM INT HUP
${OPERATION_MARK}=$2 "$4" "$5"
code=$?
rm -f "$record"
trap - TERM INT HUP
# The control script died of a signal: so does this shell, so that the operation says which.
[ "$code" -gt 128 ] && kill -$((code - 128)) $$ 2>/dev/null
exit $code
`;

/** The command that runs `action` of the server's control script under the program above. */
export function operationCommand(serverId: string, operationId: string, controlScript: string, action: Action, graceMs: number): string {
  const args = [serverId, operationId, String(Math.ceil(graceMs / 100)), controlScript, action].map(shellQuote);
  return `sh -c ${shellQuote(WRAPPER)} cs2-ssh-pool ${args.join(' ')}`;
}
