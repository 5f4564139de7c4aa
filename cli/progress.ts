/**
 * Progress of a long command, on stderr. On a terminal: one status line
 * redrawn in place (carriage return, erase line), at most every `redrawMs`.
 * On anything else (a pipe, a file, CI logs): no escape codes and no
 * carriage returns, only a plain line every `lineEveryMs` and a final one
 * (after a run that long, or always when asked), so a log stays quiet and
 * line-oriented. The client's events feed the
 * request and rate-limit counts; the command sets what it counts (records
 * done of total), its phase, and the requests it expects at the portal's rate
 * for the ETA. Ctrl-C: `onInterrupt` runs the command's clean stop once; a
 * second Ctrl-C quits at once (exit 130).
 */
import type { ClientEvent } from '../engine/client/index.js';

/** What the display writes to: stderr, or a stream in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** The command, as the lines start: `rules apply`. */
  label: string;
  /** @default process.stderr */
  stream?: ProgressStream;
  /** A terminal display (true) or plain lines (false). @default stream.isTTY */
  tty?: boolean;
  /** @default Date.now */
  now?: () => number;
  /** Terminal: the least time between two redraws (ms). @default 100 */
  redrawMs?: number;
  /** Plain lines: the least time between two lines before the final one (ms). @default 10000 */
  lineEveryMs?: number;
  /** Plain lines: the final status line always, or only after a run long enough to have printed one before. @default 'if-long' */
  finalLine?: 'always' | 'if-long';
  /** Show the request and rate-limit counts (a command that makes no REST calls of its own says no). @default true */
  showRequests?: boolean;
}

export const DEFAULTS = {
  redrawMs: 100,
  lineEveryMs: 10_000,
  /** Width when the terminal does not say (a pty without a size). */
  columns: 80,
  /** The exit code after Ctrl-C, as shells report a SIGINT. */
  interruptedExit: 130,
};

/** `1 h 5 min`, `3 min 20 s`, `12 s`. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The progress of one command. */
export class Progress {
  /** Requests answered by the portal, rate-limit waits (the client's and the method budget's) and their total. */
  readonly counts = { requests: 0, waits: 0, waitMs: 0 };
  readonly #o: Required<Omit<ProgressOptions, 'tty'>> & { tty: boolean };
  #lines = 0;
  readonly #started: number;
  #phase = '';
  #done = 0;
  #total: number | undefined;
  #unit = 'records';
  #expected: { requests: number; ratePerSecond: number } | undefined;
  #extra: (() => string | undefined) | undefined;
  #lastDraw = -Infinity;
  #lastLine: number;
  #shown = false;
  #finished = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ProgressOptions) {
    const stream = options.stream ?? process.stderr;
    this.#o = {
      label: options.label,
      stream,
      tty: options.tty ?? stream.isTTY === true,
      now: options.now ?? Date.now,
      redrawMs: options.redrawMs ?? DEFAULTS.redrawMs,
      lineEveryMs: options.lineEveryMs ?? DEFAULTS.lineEveryMs,
      finalLine: options.finalLine ?? 'if-long',
      showRequests: options.showRequests ?? true,
    };
    this.#started = this.#o.now();
    this.#lastLine = this.#started;
    // Redraws while nothing happens (a long rate-limit wait), so the elapsed time and ETA move; never keeps the process alive.
    this.#timer = setInterval(() => this.#update(), this.#o.tty ? 1000 : this.#o.lineEveryMs);
    this.#timer.unref();
  }

  /** Whether this display redraws a terminal line. */
  get tty(): boolean {
    return this.#o.tty;
  }

  /** A ClientEvent listener: counts requests and waits (ClientOptions.onEvent). */
  readonly clientEvent = (e: ClientEvent): void => {
    if (e.type === 'request') this.counts.requests++;
    else if (e.type === 'rate-limit-wait' || e.type === 'operating-wait') {
      this.counts.waits++;
      this.counts.waitMs += e.ms;
    } else return;
    this.#update();
  };

  /** What is being done now (`planning`, `applying`). */
  phase(text: string): void {
    this.#phase = text;
    this.#update(true);
  }

  /** How many of what there are to do. */
  total(n: number, unit = this.#unit): void {
    this.#total = n;
    this.#unit = unit;
    this.#update();
  }

  /** How many are done now (a change is drawn at once on a terminal). */
  done(n: number): void {
    const changed = n !== this.#done;
    this.#done = n;
    this.#update(changed);
  }

  /** The requests the work needs and the portal's rate: the ETA is the rest at that rate. */
  expect(requests: number, ratePerSecond: number): void {
    this.#expected = ratePerSecond > 0 ? { requests, ratePerSecond } : undefined;
  }

  /** A part of the status of the command's own (`12 calls done`). */
  extra(part: () => string | undefined): void {
    this.#extra = part;
  }

  /** Seconds left, when there is a basis for it. */
  eta(): number | undefined {
    if (this.#expected) return Math.max(0, this.#expected.requests - this.counts.requests) / this.#expected.ratePerSecond;
    if (this.#total !== undefined && this.#done > 0) return ((this.#o.now() - this.#started) / 1000) * ((this.#total - this.#done) / this.#done);
    return undefined;
  }

  /** The status text (no label). */
  status(): string {
    const parts: string[] = [];
    if (this.#phase) parts.push(this.#phase);
    if (this.#total !== undefined) parts.push(`${this.#done}/${this.#total} ${this.#unit}`);
    const extra = this.#extra?.();
    if (extra) parts.push(extra);
    if (this.#o.showRequests) {
      parts.push(plural(this.counts.requests, 'request'));
      parts.push(`${plural(this.counts.waits, 'rate-limit wait')}${this.counts.waits ? ` (${formatSeconds(this.counts.waitMs / 1000)})` : ''}`);
    }
    parts.push(`${formatSeconds((this.#o.now() - this.#started) / 1000)} elapsed`);
    const eta = this.#finished ? undefined : this.eta();
    if (eta !== undefined && (this.#total === undefined || this.#done < this.#total)) parts.push(`ETA ${formatSeconds(eta)}`);
    return parts.join(', ');
  }

  /** A message of the command's own: above the status line on a terminal, a line as it is otherwise. */
  log(text: string): void {
    if (this.#o.tty && this.#shown) this.#o.stream.write('\r\x1b[2K');
    this.#o.stream.write(text.endsWith('\n') ? text : `${text}\n`);
    this.#shown = false;
    if (this.#o.tty && !this.#finished) this.#draw();
  }

  /** Stop the display: a terminal's status line is erased, plain output gets its final line. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#o.tty) {
      if (this.#shown) this.#o.stream.write('\r\x1b[2K');
      this.#shown = false;
    } else if (this.#o.finalLine === 'always' || this.#lines > 0) this.#o.stream.write(`${this.#o.label}: ${this.status()}\n`);
  }

  #update(force = false): void {
    if (this.#finished) return;
    const now = this.#o.now();
    if (this.#o.tty) {
      if (force || now - this.#lastDraw >= this.#o.redrawMs) this.#draw();
    } else if (now - this.#lastLine >= this.#o.lineEveryMs) {
      this.#lastLine = now;
      this.#lines++;
      this.#o.stream.write(`${this.#o.label}: ${this.status()}\n`);
    }
  }

  #draw(): void {
    this.#lastDraw = this.#o.now();
    const width = Math.max(20, (this.#o.stream.columns || DEFAULTS.columns) - 1);
    let text = `${this.#o.label}: ${this.status()}`;
    if (text.length > width) text = `${text.slice(0, width - 1)}…`;
    this.#o.stream.write(`\r\x1b[2K${text}`);
    this.#shown = true;
  }
}

/**
 * Ctrl-C for a long command: the first SIGINT runs `stop` (the command's
 * clean stop; it says what was done and what was not), a second one writes
 * `quit` and exits 130 at once. Returns what removes the handler.
 */
export function onInterrupt(stop: () => void, quit = 'Stopping now.'): () => void {
  let count = 0;
  const handler = (): void => {
    count++;
    if (count === 1) {
      stop();
      return;
    }
    process.stderr.write(`\n${quit}\n`);
    process.exit(DEFAULTS.interruptedExit);
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}
