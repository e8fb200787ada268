import { StringDecoder } from 'node:string_decoder';

/** A longer line is cut into pieces of this many characters (SteamCMD never comes close). */
export const MAX_LINE_CHARS = 4096;

/**
 * Turns one stream's chunks into lines: UTF-8 decoded across chunk boundaries, split at `\n`, `\r\n`
 * and a lone `\r` (progress bars redraw with it), without the terminator. Bytes that are not UTF-8
 * and NUL bytes (which PostgreSQL cannot store in text) become U+FFFD, so any output can be stored.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private lastWasCr = false;

  /** @returns the lines this chunk completed. */
  push(chunk: Buffer): string[] {
    return this.split(withoutNul(this.decoder.write(chunk)));
  }

  /** @returns the unterminated last line, if any. */
  end(): string[] {
    const rest = this.split(withoutNul(this.decoder.end()));
    if (this.partial.length > 0) rest.push(this.partial);
    this.partial = '';
    return rest;
  }

  private split(text: string): string[] {
    // A CRLF split across chunks: the CR ended the line already.
    if (this.lastWasCr && text.startsWith('\n')) text = text.slice(1);
    if (text.length > 0) this.lastWasCr = text.endsWith('\r');
    const lines: string[] = [];
    let start = 0;
    for (const match of text.matchAll(/\r\n|\r|\n/g)) {
      this.take(text.slice(start, match.index), lines);
      lines.push(this.partial);
      this.partial = '';
      start = match.index + match[0].length;
    }
    this.take(text.slice(start), lines);
    return lines;
  }

  /** Adds unterminated text to the line being built, cutting it at MAX_LINE_CHARS. */
  private take(text: string, lines: string[]): void {
    let rest = this.partial + text;
    while (rest.length >= MAX_LINE_CHARS) {
      lines.push(rest.slice(0, MAX_LINE_CHARS));
      rest = rest.slice(MAX_LINE_CHARS);
    }
    this.partial = rest;
  }
}

const withoutNul = (text: string) => text.replaceAll('\0', '\uFFFD');

/** SteamCMD: `Update state (0x61) downloading, progress: 45.12 (1234 / 5678)`. */
const STEAMCMD_PROGRESS = /\bUpdate state \(0x[0-9a-fA-F]+\) [^,]*, progress: (\d{1,3}(?:\.\d+)?) \(/;

/** The percentage a SteamCMD progress line reports (two decimals), or null for any other line. */
export function parseProgress(line: string): number | null {
  const match = STEAMCMD_PROGRESS.exec(line);
  if (!match) return null;
  const percent = Number(match[1]);
  return percent <= 100 ? Math.round(percent * 100) / 100 : null;
}
