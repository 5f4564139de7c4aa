/** The shape of a rule document after schema validation (YAML names, before compilation). */

export interface RawChange {
  from?: unknown;
  to?: unknown;
}

/** A duration as written: `2h`, `PT2H`, or seconds. */
export type RawDuration = string | number;

/** The `wait_for:` action as written. */
export interface RawWaitFor {
  event: string;
  match?: unknown;
  timeout: RawDuration;
  within?: string;
  on_timeout?: Array<Record<string, unknown>>;
}

/** The `delay:` action as written. */
export type RawDelay = RawDuration | { for?: RawDuration; until?: string; within?: string; recheck?: boolean };

export interface RawTrigger {
  event?: string;
  changed?: Record<string, RawChange>;
  for?: RawDuration | { duration: RawDuration; within?: string };
  schedule?: { cron: string; timezone?: string };
  webhook?: { path: string; secret?: string };
  manual?: Record<string, never> | null;
}

export interface RawRead {
  entity?: string;
  entity_type_id?: number;
  id?: string | number;
  filter?: Record<string, unknown>;
  select?: string[];
  order?: Record<string, string>;
  limit?: number;
  method?: string;
  params?: Record<string, unknown>;
  as?: string;
  max_records?: number;
}

export interface RawRule {
  id: string;
  description?: string;
  enabled?: boolean;
  env?: string[];
  trigger: RawTrigger;
  foreach?: RawRead;
  load?: Record<string, RawRead>;
  let?: Record<string, unknown>;
  condition?: unknown;
  group?: string;
  priority?: number;
  mode?: 'live' | 'shadow';
  rollout?: { percent?: number; where?: unknown };
  dedupe?: string;
  actions: Array<Record<string, unknown>>;
  concurrency?: { key?: string; mode?: 'serial' | 'parallel' | 'skip' };
  on_error?: { retries?: number; then?: 'dead_letter' | 'continue' | 'stop' };
}
