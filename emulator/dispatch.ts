/**
 * Runs one method call the way a portal does after authentication: method
 * lookup (unknown → 404 ERROR_METHOD_NOT_FOUND; real but not emulated → 501),
 * WRONG_AUTH_TYPE, insufficient_scope, the per-method operating budget
 * (429 OPERATION_TIME_LIMIT), the handler, and the `time` object. Every call,
 * batch sub-commands included, goes into the call log.
 */
import { runBatch } from './batch.js';
import type { CallLog, CallRecord } from './calls.js';
import { catalog } from './catalog.js';
import { timeInfo, type TimeInfo } from './clock.js';
import type { B24ErrorBody } from '../engine/wire/index.js';
import type { OperatingBudget } from './limits.js';
import type { EmulatorState } from './state.js';
import { PortalError, type CallerAuth, type EmittedEvent, type MethodRegistry, type Params, type ValidationEntry } from './types.js';

export interface Invocation {
  method: string;
  params: Params;
  auth: CallerAuth;
  /** Who is counted for the operating budget: one webhook or one app. */
  credential: string;
  /** Set for a batch sub-command. */
  batch?: { parent: number; key: string };
  /** A REST 3.0 call (`/rest/api/`): its methods are in `DispatcherOptions.v3`. */
  api?: 'v3';
}

export type Outcome =
  | { ok: true; status: 200; result: unknown; total?: number; next?: number; time: TimeInfo; cost: number }
  | ({ ok: false; status: number; cost: number; validation?: ValidationEntry[] } & B24ErrorBody);

export interface DispatcherOptions {
  budget: OperatingBudget;
  calls: CallLog;
  /** Simulated seconds per call of a method, overriding its MethodDef.cost. */
  costs: Record<string, number>;
  /** Cost of a method that declares none. */
  defaultCost: number;
  publish(event: EmittedEvent): void;
  /** A handler threw something other than a PortalError (an emulator bug): answered as 500. */
  onBug?(err: unknown, method: string): void;
  /** The REST 3.0 methods (rest-v3.ts). @default none */
  v3?: MethodRegistry;
  /** Runs a REST 3.0 batch (rest-v3.ts) for `invoke`, so the batch and its calls are recorded like REST 1's. */
  v3Batch?(inv: Invocation, seq: number, run: (inv: Invocation) => Promise<Outcome>): Promise<Outcome>;
}

export function errorOutcome(err: PortalError, cost = 0): Outcome {
  return { ok: false, status: err.status, error: err.error, error_description: err.description, cost, ...(err.validation ? { validation: err.validation } : {}) };
}

/**
 * A method REST 3.0 does not have, or the emulator does not. The docs name no code for a method unknown at
 * `/rest/api/` (UNCONFIRMED, docs/emulator-fidelity.md): 404 ERROR_METHOD_NOT_FOUND, as REST 1 answers.
 */
function v3Unknown(name: string, api: string | undefined): PortalError {
  if (api === 'v3' || api === 'v1+v3') return new PortalError(501, 'ERROR_METHOD_NOT_FOUND', `Method '${name}' is a real Bitrix24 REST 3.0 method but is not implemented by the b24-rules emulator`);
  return new PortalError(404, 'ERROR_METHOD_NOT_FOUND', `Method '${name}' is not a REST 3.0 method${api === 'v1' ? ': call it at /rest/, not /rest/api/' : ''}`);
}

function hasScope(auth: CallerAuth, scope: string): boolean {
  if (scope === 'basic' || scope === '') return true;
  return scope.split(',').some((s) => auth.scopes.includes(s.trim()));
}

export class Dispatcher {
  constructor(
    readonly state: EmulatorState,
    readonly options: DispatcherOptions,
  ) {}

  /** Run a call and record it; never throws a PortalError (it becomes an error outcome). `seq` is its call record's. */
  async invoke(inv: Invocation): Promise<Outcome & { seq: number }> {
    const seq = this.options.calls.nextSeq();
    const at = this.state.now();
    const name = inv.method.toLowerCase();
    const record: CallRecord = {
      seq,
      method: name,
      params: inv.params,
      auth: inv.auth.kind,
      userId: inv.auth.userId,
      time: at,
      status: 0,
      ...(inv.batch ? { batch: inv.batch } : {}),
      ...(inv.api ? { api: inv.api } : {}),
    };
    // Recorded before it runs, so a batch comes before its sub-commands in the log.
    this.options.calls.add(record);
    let outcome: Outcome;
    try {
      if (name === 'batch' && !inv.batch && inv.api === 'v3' && this.options.v3Batch) outcome = await this.options.v3Batch(inv, seq, (sub) => this.invoke(sub));
      else outcome = name === 'batch' && !inv.batch ? await this.#batch(inv, seq, at) : await this.#run(name, inv, at);
    } catch (err) {
      if (!(err instanceof PortalError)) this.options.onBug?.(err, name);
      outcome = errorOutcome(err instanceof PortalError ? err : new PortalError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'));
    }
    record.status = outcome.status;
    if (!outcome.ok) record.error = outcome.error;
    return { ...outcome, seq };
  }

  async #run(name: string, inv: Invocation, at: number): Promise<Outcome> {
    if (name === 'batch') throw new PortalError(405, 'ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage');
    const def = inv.api === 'v3' ? this.options.v3?.get(name) : this.state.registry.get(name);
    if (!def) {
      const known = catalog().get(name);
      if (inv.api === 'v3') throw v3Unknown(name, known?.api);
      if (known?.api === 'v3') throw new PortalError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
      if (known) {
        throw new PortalError(
          501,
          'ERROR_METHOD_NOT_FOUND',
          `Method '${known.method}' is a real Bitrix24 method (scope ${known.scope}) but is not implemented by the b24-rules emulator`,
        );
      }
      throw new PortalError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
    }
    if (def.appOnly && inv.auth.kind !== 'oauth') throw new PortalError(403, 'WRONG_AUTH_TYPE', 'Current authorization type is denied for this method');
    if (!hasScope(inv.auth, def.scope)) {
      // _includes/system-errors.md (bitrix24/b24restdocs): 401, and the text names the kind of token.
      const token = inv.auth.kind === 'webhook' ? 'webhook token' : 'access token';
      throw new PortalError(401, 'insufficient_scope', `The request requires higher privileges than provided by the ${token}`);
    }
    const budgetKey = `${inv.credential}|${name}`;
    const { budget } = this.options;
    if (budget.exhausted(budgetKey, at)) throw new PortalError(429, 'OPERATION_TIME_LIMIT', 'Method is blocked due to operation time limit');
    const cost = this.options.costs[name] ?? def.cost ?? this.options.defaultCost;
    const authConnector = typeof inv.params.auth_connector === 'string' ? inv.params.auth_connector : undefined;
    const ctx = {
      auth: inv.auth,
      ...(authConnector !== undefined ? { authConnector } : {}),
      now: () => this.state.now(),
      emit: (event: string, data: Record<string, unknown>) =>
        this.options.publish({ event: event.toUpperCase(), data, at: this.state.now(), auth: inv.auth, ...(authConnector !== undefined ? { authConnector } : {}) }),
    };
    let handled;
    try {
      handled = await def.handler(inv.params, ctx);
    } catch (err) {
      budget.add(budgetKey, cost, at);
      if (err instanceof PortalError) return errorOutcome(err, cost);
      throw err;
    }
    const report = budget.add(budgetKey, cost, at);
    const time = timeInfo(at, cost, this.state.portal.offsetMinutes, report);
    return {
      ok: true,
      status: 200,
      result: handled.result,
      ...(handled.total !== undefined ? { total: handled.total } : {}),
      ...(handled.next !== undefined ? { next: handled.next } : {}),
      time,
      cost,
    };
  }

  async #batch(inv: Invocation, seq: number, at: number): Promise<Outcome> {
    const { result, cost } = await runBatch(inv.params, (method, params, key) =>
      this.invoke({ method, params, auth: inv.auth, credential: inv.credential, batch: { parent: seq, key } }),
    );
    return { ok: true, status: 200, result, time: timeInfo(at, cost, this.state.portal.offsetMinutes), cost };
  }
}
