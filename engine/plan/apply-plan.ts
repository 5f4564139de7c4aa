/**
 * `rules apply --plan plan.json`: carry out exactly the calls of a saved plan,
 * after checking that every record the plan was computed from is unchanged
 * (same DATE_MODIFY, or the same hash over the fields read). If any changed,
 * nothing is sent (PlanStaleError). Writes go as the plan's batches, in order,
 * with `halt=0`.
 *
 * Only plans of REST calls can be carried out: a plan with external `http`
 * calls, or whose planning stopped at an action that needs such a call's
 * answer, or whose params carry masked secrets, is refused whole
 * (PLAN_NOT_APPLICABLE): run those rules through the daemon instead.
 */
import { readFileSync } from 'node:fs';
import type { B24ClientApi, BatchCommand, BatchItemResult } from '../client/index.js';
import { B24RulesError } from '../errors.js';
import { REDACTED } from '../redact.js';
import { InputFileError, PlanStaleError } from './errors.js';
import { dateModifyOf, fingerprint, rowsOfResult } from './read-recorder.js';
import { PLAN_FORMAT_VERSION, type PlanDocument, type PlanRead } from './types.js';

/** Read and check a saved plan file. */
export function readPlanFile(file: string): PlanDocument {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputFileError('PLAN_FILE_INVALID', file, undefined, `cannot read the plan: ${(err as Error).message}. Make one with 'rules dry-run --out ${file}'.`, { cause: err });
  }
  const plan = value as Partial<PlanDocument>;
  if (plan.format_version !== PLAN_FORMAT_VERSION) {
    throw new InputFileError('PLAN_FILE_INVALID', file, undefined, `format_version ${String(plan.format_version)} is not ${PLAN_FORMAT_VERSION}; make the plan again with this version of rules dry-run`);
  }
  if (!Array.isArray(plan.firings) || !Array.isArray(plan.batches) || !Array.isArray(plan.reads)) {
    throw new InputFileError('PLAN_FILE_INVALID', file, undefined, 'not a plan: firings, batches or reads missing');
  }
  return plan as PlanDocument;
}

/** The read command that fetches one record again. */
function refetch(read: PlanRead): BatchCommand | null {
  const item = /^item:(\d+)$/.exec(read.entity);
  if (item) return { method: 'crm.item.get', params: { entityTypeId: Number(item[1]), id: read.id } };
  if (read.entity === 'user') return { method: 'user.get', params: { ID: read.id } };
  if (read.entity === 'task') return { method: 'tasks.task.get', params: { taskId: read.id, select: read.fields } };
  if (/^(lead|deal|contact|company|quote)$/.test(read.entity)) return { method: `crm.${read.entity}.get`, params: { id: read.id } };
  return null;
}

/** Records of the plan that changed since (or vanished). Reads only. */
export async function staleReads(client: B24ClientApi, reads: PlanRead[]): Promise<Array<{ entity: string; id: string; reason: string }>> {
  const commands: Record<string, BatchCommand> = {};
  reads.forEach((r, i) => {
    const cmd = refetch(r);
    if (cmd) commands[`r${i}`] = cmd;
  });
  if (Object.keys(commands).length === 0) return [];
  const results = await client.batch(commands, { halt: false });
  const changed: Array<{ entity: string; id: string; reason: string }> = [];
  reads.forEach((r, i) => {
    const res = results[`r${i}`];
    if (!res) return;
    const row = res.ok ? rowsOfResult(res.result).find((x) => String(x.ID ?? x.id) === r.id) : undefined;
    if (!row) {
      changed.push({ entity: r.entity, id: r.id, reason: res.ok ? 'not found' : `cannot read: ${res.error?.error ?? 'error'}` });
      return;
    }
    const dm = dateModifyOf(row);
    if (r.date_modify !== undefined && dm !== undefined) {
      if (dm !== r.date_modify) changed.push({ entity: r.entity, id: r.id, reason: `DATE_MODIFY ${r.date_modify} → ${dm}` });
    } else if (fingerprint(row, r.fields) !== r.hash) {
      changed.push({ entity: r.entity, id: r.id, reason: 'fields changed' });
    }
  });
  return changed;
}

export interface AppliedCall {
  firing: number;
  call: number;
  method: string;
  ok: boolean;
  error?: string;
}

export interface ApplyPlanResult {
  sent: number;
  failed: number;
  calls: AppliedCall[];
}

/** Why a plan cannot be carried out as it is, or null. */
export function notApplicable(plan: PlanDocument): string | null {
  const problems: string[] = [];
  plan.firings.forEach((f, i) => {
    if (f.error) problems.push(`run ${i + 1} (${f.rule}) failed to plan: ${f.error.code}`);
    if (f.stopped_at_action !== undefined) problems.push(`run ${i + 1} (${f.rule}): ${f.skipped}`);
    for (const c of f.calls) {
      if (c.method === 'http') problems.push(`run ${i + 1} (${f.rule}) makes an external http call`);
      else if (c.kind === 'write' && JSON.stringify(c.params).includes(REDACTED)) problems.push(`run ${i + 1} (${f.rule}): ${c.method} params carry a masked secret`);
    }
  });
  return problems.length === 0 ? null : [...new Set(problems)].join('; ');
}

/**
 * Check the plan's reads, then send its write batches. Throws PlanStaleError
 * (nothing sent) when a record changed. Failed commands are reported, not
 * thrown: the rest of the plan still goes.
 */
export async function applyPlan(client: B24ClientApi, plan: PlanDocument): Promise<ApplyPlanResult> {
  const why = notApplicable(plan);
  if (why) throw new B24RulesError('PLAN_NOT_APPLICABLE', `this plan cannot be carried out by 'rules apply --plan': ${why}. Nothing was sent.`, { kind: 'user' });
  const changed = await staleReads(client, plan.reads);
  if (changed.length > 0) throw new PlanStaleError(changed);
  const calls: AppliedCall[] = [];
  for (const batch of plan.batches) {
    const commands: Record<string, BatchCommand> = {};
    const index = new Map<string, [number, number]>();
    for (const [fi, ci] of batch.calls) {
      const call = plan.firings[fi]?.calls[ci];
      if (!call || call.kind !== 'write') continue;
      // Effect keys hold ':' and '.', which a batch key in PHP query form does not carry safely.
      const key = `f${fi}c${ci}`;
      commands[key] = { method: call.method, params: call.params };
      index.set(key, [fi, ci]);
    }
    if (index.size === 0) continue;
    const results: Record<string, BatchItemResult> = await client.batch(commands, { halt: false });
    for (const [key, [fi, ci]] of index) {
      const r = results[key];
      const method = commands[key]?.method ?? '?';
      const applied: AppliedCall = { firing: fi, call: ci, method, ok: r?.ok === true };
      if (!applied.ok) applied.error = r?.error ? `${r.error.error}: ${r.error.error_description}` : 'no answer';
      calls.push(applied);
    }
  }
  return { sent: calls.length, failed: calls.filter((c) => !c.ok).length, calls };
}

/**
 * The whole of `rules apply --plan FILE` (cli/commands/apply.ts delegates
 * here): read the plan, connect as configured in the environment, check and
 * carry it out, print what happened. Returns the exit code: 0 all sent and
 * succeeded, 1 refused (stale, not applicable) or any command failed.
 */
export async function applyPlanCommand(file: string, io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  const plan = readPlanFile(file);
  const { createClient, loadConfig } = await import('../client/index.js');
  const client = createClient(loadConfig());
  try {
    const writes = plan.firings.reduce((n, f) => n + f.calls.filter((c) => c.kind === 'write').length, 0);
    io.out(`Checking ${plan.reads.length} record(s) the plan was made from, then sending ${writes} call(s) in ${plan.batches.length} batch(es).\n`);
    const result = await applyPlan(client, plan);
    for (const c of result.calls) {
      const f = plan.firings[c.firing];
      io.out(`${c.ok ? 'ok    ' : 'FAILED'} ${f?.rule ?? '?'} ${c.method}${f?.record ? ` on ${f.record.entity} ${f.record.id}` : ''}${c.error ? `: ${c.error}` : ''}\n`);
    }
    io.out(`${result.sent - result.failed} of ${result.sent} call(s) succeeded.\n`);
    return result.failed > 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof PlanStaleError || (err instanceof B24RulesError && err.code === 'PLAN_NOT_APPLICABLE')) {
      io.err(`rules apply: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await client.close();
  }
}
