import { StringDecoder } from 'node:string_decoder';

/** A longer line is cut into pieces of this many characters (SteamCMD never comes close). */
export const MAX_LINE_CHARS = 4096;

/**
 * Turns one stream's chunks into lines: UTF-8 decoded across chunk boundaries, split at `\n`, `\r\n`
 * and a lone `\r` (progress bars redraw with it), without the terminator.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private lastWasCr = false;

  /** @returns the lines this chunk completed. */
  push(chunk: Buffer): string[] {
    return this.split(this.decoder.write(chunk));
  }

  /** @returns the unterminated last line, if any. */
  end(): string[] {
    const rest = this.split(this.decoder.end());
    if (this.partial.length > 0) rest.push(this.partial);
    this.partial = '';
    return rest;
  }

  private split(text: string): string[] {
    const lines: string[] = [];
    for (const char of text) {
      if (char === '\n' && this.lastWasCr) {
        this.lastWasCr = false;
        continue;
      }
      this.lastWasCr = char === '\r';
      if (char === '\n' || char === '\r') {
        lines.push(this.partial);
        this.partial = '';
      } else {
        this.partial += char;
        if (this.partial.length >= MAX_LINE_CHARS) {
          lines.push(this.partial);
          this.partial = '';
        }
      }
    }
    return lines;
  }
}

/** SteamCMD: `Update state (0x61) downloading, progress: 45.12 (1234 / 5678)`. */
const STEAMCMD_PROGRESS = /\bUpdate state \(0x[0-9a-fA-F]+\) [^,]*, progress: (\d{1,3}(?:\.\d+)?) \(/;

/** The percentage a SteamCMD progress line reports (two decimals), or null for any other line. */
export function parseProgress(line: string): number | null {
  const match = STEAMCMD_PROGRESS.exec(line);
  if (!match) return null;
  const percent = Number(match[1]);
  return percent <= 100 ? Math.round(percent * 100) / 100 : null;
}
