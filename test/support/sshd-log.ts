// Parsing of an OpenSSH 9.x sshd log written with `-E file` at LogLevel VERBOSE (no timestamps/pids).

export function logLines(log: string): string[] {
  return log.split('\n').filter((line) => line.length > 0);
}

export function countLines(log: string, pattern: RegExp): number {
  return logLines(log).filter((line) => pattern.test(line)).length;
}

export function tailLines(log: string, count: number): string {
  return logLines(log).slice(-count).join('\n');
}

const CONNECTION_START = /^Connection from (\S+ port \d+) on /;
// Every way sshd 9.2 reports the end of a TCP connection. One connection can produce several of
// these ("Received disconnect from …" followed by "Disconnected from user …"), so lines are keyed
// by the client "address port N" and only the first end line after "Connection from" is counted.
const CONNECTION_END =
  /^(?:Received disconnect from|Disconnected from|Connection closed by|Connection reset by|Closing connection to|Disconnecting|Timeout before authentication for|Timeout, client not responding from)\b/;
const CLIENT = /(\S+ port \d+)/;

/** Number of SSH connections whose end sshd logged (a SIGKILLed connection process logs nothing). */
export function countDisconnects(log: string): number {
  const ended = new Set<string>();
  let count = 0;
  for (const line of logLines(log)) {
    const start = CONNECTION_START.exec(line);
    if (start) {
      ended.delete(start[1]);
      continue;
    }
    if (!CONNECTION_END.test(line)) continue;
    const client = CLIENT.exec(line)?.[1];
    if (client && !ended.has(client)) {
      ended.add(client);
      count++;
    }
  }
  return count;
}
