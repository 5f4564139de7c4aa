/**
 * Watches the work while the drill runs: four times a second it reads the portal's
 * record (leads done, events left in the offline queue) and notes when either
 * last changed, so the drill can wait for a moment of the backlog, see that
 * the work is finished, or see that it stalled. It also looks at the state
 * and token files' modes while a daemon runs (the -wal and -shm exist only
 * then).
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { ModeSample } from './check-file-modes.js';
import type { DaemonSupervisor } from './daemon.js';
import { EFFECTS_PER_LEAD } from './check-effects.js';
import { doneEffects, doneLeads, readEffects } from './effects.js';
import type { DrillPortal } from './portal.js';

export class Monitor {
  /** Leads with all four effects. */
  done = 0;
  /** Effects present. */
  effects = 0;
  /** Effects of the backlog's leads present: the progress (the form posts wait for it, so it cannot wait for them). */
  backlogEffects = 0;
  readonly #backlog: Set<string>;
  /** The leads of the moments' progress: the first backlog (leads added later count as done work, not as progress). */
  readonly #progressBase: number;
  /** Events left in the portal's offline queue. */
  queued = 0;
  lastChangeAt = Date.now();
  readonly modeSamples: ModeSample[] = [];
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;

  constructor(
    private readonly portal: DrillPortal,
    private readonly backlogIds: string[],
    private readonly forms: number,
    private readonly files: readonly string[],
    private readonly supervisor: DaemonSupervisor,
  ) {
    this.#backlog = new Set(backlogIds);
    this.#progressBase = backlogIds.length;
  }

  /** Leads the drill expects in all (backlog, leads added later, form posts). */
  get expected(): number {
    return this.backlogIds.length + this.forms;
  }

  /** Effects expected in all: four per lead, and the lead of each form post. */
  get expectedEffects(): number {
    return this.backlogIds.length * EFFECTS_PER_LEAD + this.forms * (1 + EFFECTS_PER_LEAD);
  }

  /** Expect these leads' effects too (leads the drill added during the work). */
  addLeads(ids: readonly string[]): void {
    this.backlogIds.push(...ids);
    this.lastChangeAt = Date.now();
  }

  /** Share of the first backlog's effects present, 0 to 1. */
  get progress(): number {
    return this.#progressBase === 0 ? 1 : Math.min(1, this.backlogEffects / (this.#progressBase * EFFECTS_PER_LEAD));
  }

  /** Every lead done and nothing left in the queue. */
  get finished(): boolean {
    return this.done >= this.expected && this.queued === 0;
  }

  start(): void {
    this.poll();
    this.#timer = setInterval(() => this.poll(), 250);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Read the record now. */
  poll(): void {
    const record = readEffects(this.portal.emu, this.backlogIds, this.forms);
    const done = doneLeads(record);
    const effects = doneEffects(record);
    const queued = this.portal.emu.events.hub.queue.snapshot().length;
    if (effects !== this.effects || queued !== this.queued) this.lastChangeAt = Date.now();
    this.done = done;
    this.effects = effects;
    this.backlogEffects = doneEffects(record, this.#backlog);
    this.queued = queued;
    if (this.#ticks++ % 4 === 0 && this.supervisor.ready) this.sampleModes(`while daemon #${this.supervisor.current?.index ?? '?'} ran`);
  }

  /** Note the files' modes now. */
  sampleModes(when: string): void {
    for (const file of this.files) {
      let mode: number | null = null;
      try {
        mode = statSync(file).mode & 0o777;
      } catch {
        mode = null;
      }
      this.modeSamples.push({ file: basename(file), when, mode });
    }
  }
}
