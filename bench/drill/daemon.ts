/**
 * The daemon under the drill: real `rules run` processes on one state file,
 * one after another. Each process is a "life": when it was spawned, when it
 * logged that it started, every line it wrote (kept for the secret scan and
 * the run-log check), how it ended, and whether the drill ended it. A life that
 * ends without the drill's signal is a crash: the supervisor starts the next
 * one (so the rest of the drill still measures something) and the crash
 * invariant reports it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, RULES_CLI } from './cli.js';

/**
 * `--in-doubt-settle-ms` of the drill's daemons: a create that a restarted daemon does not find is sent again
 * only this long after its first send. The drill's portal holds a request at most 800 ms (its latency fault)
 * before doing it, in the drill's own loaded process: 5 s covers that; the default (60 s, the client's request
 * timeout) would leave each such run waiting a minute.
 */
export const DRILL_SETTLE_MS = 5_000;

/** One line a daemon wrote. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** One daemon process, from spawn to exit. */
export interface DaemonLife {
  index: number;
  pid: number | undefined;
  spawnedAt: number;
  /** When it logged "daemon started" (null: it never did). */
  startedAt: number | null;
  /** Its status and webhook server, from that line. */
  url: string | null;
  /** The signal the drill sent to end it, and when (null: the drill did not end it). */
  endedBy: 'SIGKILL' | 'SIGTERM' | null;
  signalledAt: number | null;
  exitedAt: number | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: LogLine[];
  /** Its stdout lines that are JSON log records. */
  records: Array<Record<string, unknown>>;
  readonly exited: Promise<void>;
}

export interface SupervisorOptions {
  rulesDir: string;
  statePath: string;
  cwd: string;
  env: Record<string, string>;
  /** Stop restarting after this many unexpected exits. @default 20 */
  maxCrashes?: number;
  /** Told of each life's end (progress output). */
  onExit?: (life: DaemonLife) => void;
}

/** Starts daemons one after another; restarts after a crash. */
export class DaemonSupervisor {
  readonly lives: DaemonLife[] = [];
  #child: ChildProcess | null = null;
  #closing = false;
  #crashes = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #startWaiters: Array<() => void> = [];

  constructor(private readonly options: SupervisorOptions) {}

  /** The life running now (or the last one, once it exited). */
  get current(): DaemonLife | undefined {
    return this.lives[this.lives.length - 1];
  }

  /** Whether the current life is running and has started (its receivers answer). */
  get ready(): boolean {
    const c = this.current;
    return c !== undefined && c.exitedAt === null && c.startedAt !== null;
  }

  /** Spawn a new life. The previous one must have exited. */
  spawn(): DaemonLife {
    const prev = this.current;
    if (prev && prev.exitedAt === null) throw new Error('drill: a daemon is still running; end it before starting another');
    const o = this.options;
    const args = [RULES_CLI, 'run', o.rulesDir, '--state', o.statePath, '--listen', '127.0.0.1:0', '--no-watch', '--poll-interval-ms', '200', '--in-doubt-settle-ms', String(DRILL_SETTLE_MS), '--log-level', 'debug'];
    const child = spawn(process.execPath, args, { cwd: o.cwd, env: childEnv(o.env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let resolveExit: () => void = () => undefined;
    const life: DaemonLife = {
      index: this.lives.length,
      pid: child.pid,
      spawnedAt: Date.now(),
      startedAt: null,
      url: null,
      endedBy: null,
      signalledAt: null,
      exitedAt: null,
      code: null,
      signal: null,
      lines: [],
      records: [],
      exited: new Promise<void>((r) => (resolveExit = r)),
    };
    this.lives.push(life);
    const reader = (stream: 'stdout' | 'stderr') => {
      let buf = '';
      return (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          this.#line(life, stream, buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      };
    };
    child.stdout?.on('data', reader('stdout'));
    child.stderr?.on('data', reader('stderr'));
    child.on('exit', (code, signal) => {
      life.exitedAt = Date.now();
      life.code = code;
      life.signal = signal;
      if (this.#child === child) this.#child = null;
      this.options.onExit?.(life);
      resolveExit();
      this.#wakeStartWaiters();
      if (life.endedBy === null && !this.#closing && ++this.#crashes <= (o.maxCrashes ?? 20)) {
        this.#restartTimer = setTimeout(() => {
          if (!this.#child && !this.#closing) this.spawn();
        }, 500);
      }
    });
    return life;
  }

  #line(life: DaemonLife, stream: 'stdout' | 'stderr', text: string): void {
    if (text === '') return;
    life.lines.push({ stream, text });
    if (stream !== 'stdout' || !text.startsWith('{')) return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    life.records.push(rec);
    if (life.startedAt === null && typeof rec.msg === 'string' && rec.msg.startsWith('daemon started')) {
      life.startedAt = Date.now();
      life.url = typeof rec.url === 'string' ? rec.url : null;
      this.#wakeStartWaiters();
    }
  }

  #wakeStartWaiters(): void {
    for (const w of this.#startWaiters.splice(0)) w();
  }

  /** Start the next life now, unless one is already running (a crash's restart may have come first). */
  restart(): DaemonLife {
    clearTimeout(this.#restartTimer);
    if (this.#child && this.current) return this.current;
    return this.spawn();
  }

  /** Resolves once a life is running and started (a crashed one is replaced meanwhile), or false after `timeoutMs`. */
  async waitReady(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.ready) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.#startWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** Send `signal` to the current life, as the drill's deliberate act; resolves when it exited. */
  async end(signal: 'SIGKILL' | 'SIGTERM'): Promise<DaemonLife | undefined> {
    const life = this.current;
    if (!life || life.exitedAt !== null || !this.#child) return undefined;
    life.endedBy = signal;
    life.signalledAt = Date.now();
    this.#child.kill(signal);
    await life.exited;
    return life;
  }

  /** Unexpected exits so far. */
  get crashes(): number {
    return this.#crashes;
  }

  /** Stop restarting; SIGKILL a life still running (the drill ends it with SIGTERM itself before, when it wants a clean stop). */
  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#restartTimer);
    if (this.#child) await this.end('SIGKILL');
  }
}
