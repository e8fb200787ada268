import { Logger } from '@nestjs/common';
import type { OperationSignals } from './operation-signals.js';
import type { FinalState, NewEvent, OperationStore } from './operation-store.js';
import { LineSplitter, parseProgress } from './output-lines.js';

/**
 * A line is stored at once when nothing was stored for this long (SteamCMD's progress, a line a
 * second, pays no wait); on a busy stream a line waits up to this long for others to share its write…
 */
const FLUSH_INTERVAL_MS = 25;
/** …or at once when this many events wait. */
const FLUSH_BATCH = 200;
/** Output lines stored per operation; later lines still reach the tail. */
export const MAX_OUTPUT_EVENTS = 20_000;
/** Progress events stored per operation: one per whole percent entered bounds a steady run to 101, this one a value that jumps about. */
export const MAX_PROGRESS_EVENTS = 1000;
export const TAIL_LINES = 50;
const TAIL_MAX_CHARS = 16 * 1024;
/** A store failure (database away) is retried after this long; the events wait in memory. */
const RETRY_MS = 1000;

type Stream = 'stdout' | 'stderr';

/**
 * The running operation's event stream as its replica writes it: output lines (stream marked),
 * progress when it changes, and the final `done`, numbered without gaps and stored in order (one
 * write at a time), each batch announced to every reader once it is committed.
 */
export class OperationLog {
  private readonly logger = new Logger(OperationLog.name);
  private readonly splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  private readonly tail: string[] = [];
  /** Characters of the tail joined with newlines, kept as lines come and go (no join per line). */
  private tailChars = -1;
  private pending: NewEvent[] = [];
  private lastSeq = 0;
  private outputEvents = 0;
  private progress: number | null = null;
  private lastProgressEvent: number | null = null;
  private progressEvents = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastFlushAt = -Infinity;
  /** The store refused a write: the operation was ended elsewhere (its lease ran out). */
  lost = false;

  constructor(
    private readonly operationId: string,
    private readonly store: Pick<OperationStore, 'append' | 'finish'>,
    private readonly signals: Pick<OperationSignals, 'eventsStored'>,
    /** Called once when a write finds the operation ended elsewhere: the command should stop. */
    private readonly onLost: () => void = () => undefined,
  ) {}

  readonly sink = (stream: Stream, chunk: Buffer): void => {
    for (const line of this.splitters[stream].push(chunk)) this.line(stream, line);
  };

  get state(): { progress: number | null; outputTail: string } {
    return { progress: this.progress, outputTail: this.tail.join('\n') };
  }

  /** Stores what is left and the `done` event with the final state. @returns false when the operation was ended elsewhere. */
  async finish(final: Omit<FinalState, 'progress' | 'outputTail'>): Promise<boolean> {
    for (const stream of ['stdout', 'stderr'] as const) for (const line of this.splitters[stream].end()) this.line(stream, line);
    clearTimeout(this.timer);
    await this.writing;
    if (this.lost) return false;
    const events = [...this.pending, { type: 'done' as const, data: { status: final.status, exitCode: final.exitCode } }];
    // Kept until stored, so that a retry after a failed write loses nothing.
    const stored = await this.store.finish(this.operationId, this.lastSeq, events, { ...final, ...this.state });
    this.pending = [];
    if (stored) await this.signals.eventsStored(this.operationId);
    return stored;
  }

  private line(stream: Stream, line: string): void {
    this.tail.push(line);
    this.tailChars += line.length + 1;
    while (this.tail.length > TAIL_LINES || (this.tail.length > 1 && this.tailChars > TAIL_MAX_CHARS)) this.tailChars -= this.tail.shift()!.length + 1;
    if (this.outputEvents < MAX_OUTPUT_EVENTS) {
      this.outputEvents++;
      this.pending.push({ type: 'output', data: { stream, line } });
    }
    const percent = parseProgress(line);
    if (percent !== null && percent !== this.progress) {
      this.progress = percent;
      if (this.worthAnEvent(percent)) {
        this.progressEvents++;
        this.lastProgressEvent = percent;
        this.pending.push({ type: 'progress', data: { percent } });
      }
    }
    if (this.pending.length >= FLUSH_BATCH) this.flushSoon(0, true);
    // Quiet until now: store it at once. Busy: a window opens with this line and later lines join it.
    else this.flushSoon(Date.now() - this.lastFlushAt >= FLUSH_INTERVAL_MS ? 0 : FLUSH_INTERVAL_MS);
  }

  /** A new value is an event when it enters another whole percent than the last event's (the row's `progress` follows every value). */
  private worthAnEvent(percent: number): boolean {
    if (this.progressEvents >= MAX_PROGRESS_EVENTS) return false;
    return this.lastProgressEvent === null || Math.floor(percent) !== Math.floor(this.lastProgressEvent);
  }

  /** A write is already scheduled: only a full batch (`now`) brings it forward. */
  private flushSoon(delayMs: number, now = false): void {
    if (this.timer && !now) return;
    clearTimeout(this.timer);
    // Even at 0 the write waits a macrotask: the other lines of the same chunk join it.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastFlushAt = Date.now();
      this.writing = this.writing.then(() => this.flush());
    }, delayMs);
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0 || this.lost) return;
    const batch = this.pending;
    this.pending = [];
    try {
      if (await this.store.append(this.operationId, this.lastSeq, batch, this.state)) {
        this.lastSeq += batch.length;
        await this.signals.eventsStored(this.operationId);
      } else {
        this.lost = true;
        this.logger.warn(`Operation ${this.operationId} was ended by another replica (its lease ran out); stopping it here`);
        this.onLost();
      }
    } catch (error) {
      this.pending = [...batch, ...this.pending];
      this.logger.warn(`Could not store output of operation ${this.operationId} (retrying): ${error instanceof Error ? error.message : error}`);
      this.flushSoon(RETRY_MS);
    }
  }
}
