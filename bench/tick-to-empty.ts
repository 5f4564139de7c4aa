/**
 * The timed part of the in-process engine benchmarks (backlog, rest-v3, store-pg): the engine
 * ticks until its inbox is empty, and the wall and CPU time of that, with the ticks it took.
 */
import type { Engine } from '../engine/pipeline/index.js';
import { elapsedMs } from './measure.js';

/** A backlog never takes this many ticks; past it the benchmark's check of the work fails. */
const MAX_TICKS = 1000;

export interface TickFigures {
  wallMs: number;
  cpuMs: number;
  /** Ticks run, the last (which found the inbox empty) included. */
  ticks: number;
}

/** Tick `engine` until a tick reports an empty inbox, timed. */
export async function tickToEmpty(engine: Pick<Engine, 'tick'>): Promise<TickFigures> {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  let ticks = 0;
  for (; ticks < MAX_TICKS; ticks++) {
    const r = await engine.tick();
    if (r.depth === 0) break;
  }
  const wallMs = elapsedMs(started);
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, ticks: ticks + 1 };
}
