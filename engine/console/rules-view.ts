/**
 * The rules page's data, also the body of `/api/rules`: each running rule
 * with its file, trigger, validity, last action, runs of the last hour and
 * day by outcome and DLQ count, and the last refused reload with its
 * diagnostics (the validator's, file:line:col). Redacted.
 */
import { redactValue } from '../redact.js';
import type { CompiledRule, TriggerSpec } from '../rules/index.js';
import type { RunStatus } from '../store/index.js';
import type { PortalView, RefusedReload } from './source.js';

export interface RuleRow {
  id: string;
  description: string;
  enabled: boolean;
  hash: string;
  file: string;
  line: number;
  col: number;
  /** The trigger in one line: `event ONCRMLEADADD`, `schedule 0 9 * * 1-5 (Europe/Berlin)`... */
  trigger: string;
  /** It runs: the running set only holds valid rules. */
  valid: true;
  /** The rule's file (or the rule) has errors on disk now: a reload was refused because of them. */
  invalidOnDisk: boolean;
  /** When it last acted: its newest run that was not skipped (ms), or null. */
  lastActedAt: number | null;
  runs: { hour: Partial<Record<RunStatus, number>>; day: Partial<Record<RunStatus, number>> };
  dlq: number;
}

export interface RulesView {
  rules: RuleRow[];
  refusedReload: RefusedReload | null;
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** The trigger as one line. */
export function describeTrigger(t: TriggerSpec): string {
  switch (t.kind) {
    case 'event': {
      const changed = t.changed ? ` when ${Object.keys(t.changed).join(', ')} changes` : '';
      return `event ${t.event}${changed}${t.for ? ` for ${t.for.source}` : ''}`;
    }
    case 'schedule':
      return `schedule ${t.cron} (${t.timezone})`;
    case 'webhook':
      return `webhook /hooks/${t.path.replace(/^\/+/, '')}`;
    case 'manual':
      return 'manual (rules apply)';
  }
}

export function rulesView(portal: PortalView, now: number): RulesView {
  const store = portal.store;
  const refused = portal.lastRefusedReload();
  const badFiles = new Set(refused?.diagnostics.map((d) => d.file) ?? []);
  const badRules = new Set(refused?.diagnostics.map((d) => d.ruleId).filter((id): id is string => id !== undefined) ?? []);
  const counts = store.runs.countsByRule(now - DAY, now - HOUR);
  const acted = store.runs.lastActedByRule();
  const dlq = store.dlq.countByRule();
  const rows = portal.rules().map((r: CompiledRule): RuleRow => {
    const hour: Partial<Record<RunStatus, number>> = {};
    const day: Partial<Record<RunStatus, number>> = {};
    for (const c of counts) {
      if (c.ruleId !== r.id) continue;
      if (c.hour > 0) hour[c.status] = c.hour;
      day[c.status] = c.day;
    }
    return {
      id: r.id,
      description: r.description,
      enabled: r.enabled,
      hash: r.hash,
      file: r.location.file,
      line: r.location.line,
      col: r.location.col,
      trigger: describeTrigger(r.trigger),
      valid: true,
      invalidOnDisk: badFiles.has(r.location.file) || badRules.has(r.id),
      lastActedAt: acted.get(r.id) ?? null,
      runs: { hour, day },
      dlq: dlq.get(r.id) ?? 0,
    };
  });
  return redactValue({ rules: rows, refusedReload: refused });
}
