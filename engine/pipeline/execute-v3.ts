/**
 * Stage 6's REST 3.0 calls (docs/client.md, REST 3.0): a call the client
 * sends through `/rest/api/` (routesV3: tasks.task.add with an
 * Idempotency-Key, a REST 3.0-only method) goes as its own request, with its
 * effect key as the `Idempotency-Key` (the header is per request, so such
 * calls share no batch). The effect's meta notes `v3` in the commit that marks
 * it sent, before the request leaves. A call whose answer was lost stays
 * `sent`, and recovery (0-recover.ts) sends it again with the same key once
 * the first send cannot be running any more, instead of looking it up: the
 * portal answers the repeat from the first and creates nothing twice. A 5xx
 * answer is the exception: the portal keeps only successes under a key, and a
 * 5xx may come after the work was done, so the effect is noted `serverError`
 * and recovery looks it up as a REST 1 create before anything is sent again.
 * An answer, or a refusal that proves nothing ran, is handled as a batch
 * command's.
 */
import { AuthError, B24ApiError, OutcomeUnknownError, provedNotRun, type B24ClientApi, type BatchItemResult } from '../client/index.js';
import type { ExecuteReport, ExecutorDeps } from './6-execute.js';
import { commandsOf, type OutgoingCommand, type SendableEffect } from './merge-updates.js';

/** What the effect meta notes for a call sent through REST 3.0. */
export interface V3Note {
  idempotencyKey: string;
  /** The portal answered 5xx: the work may have been done, and the key does not cover it (only successes are kept). */
  serverError?: true;
}

/** Whether the portal answered the request with a 5xx (it was received; it may have run), rather than not at all. */
function answeredServerError(err: unknown): boolean {
  const cause = err instanceof OutcomeUnknownError ? err.cause : err;
  return cause instanceof B24ApiError && cause.status >= 500;
}

/** Whether stage 6 sends this effect through REST 3.0 (the client says so). */
export function goesV3(client: B24ClientApi, e: SendableEffect): boolean {
  return client.callRoutedV3 !== undefined && client.routesV3?.(e.method, e.params) === true;
}

/**
 * Send REST 3.0 effects one by one; `answer` records an answer as for a batch command. Stops at a call whose
 * outcome is unknown (it stays `sent`), as a batch that failed as a whole stops the batches after it.
 */
export async function executeV3(effects: SendableEffect[], deps: ExecutorDeps, report: ExecuteReport, answer: (c: OutgoingCommand, item: BatchItemResult, deps: ExecutorDeps) => void): Promise<void> {
  for (const e of effects) {
    const note: V3Note = { idempotencyKey: e.effectKey };
    deps.store.transaction(() => {
      deps.store.effects.note(e.id, e.meta, 'v3', note);
      deps.store.effects.markSent([e.id]);
    });
    report.calls += 1;
    deps.stats.restCalls += 1;
    const [command] = commandsOf([e]);
    let item: BatchItemResult;
    try {
      const env = await deps.client.callRoutedV3!(e.method, e.params, note.idempotencyKey);
      item = { key: command!.key, ok: true, result: env.result };
    } catch (err) {
      if (provedNotRun(err)) {
        deps.store.effects.markPending(e.id);
        deps.logger.warn({ err, effect: e.effectKey }, 'REST 3.0 call not sent; will retry');
        report.transportError = err instanceof Error ? err.message : String(err);
        return;
      }
      // The portal answered and refused the call itself (a 4xx): nothing ran; the refusal is the call's, like a batch command's.
      if ((err instanceof B24ApiError && err.code === 'B24_API_ERROR') || err instanceof AuthError || (err instanceof B24ApiError && err.code === 'B24_METHOD_NOT_FOUND')) {
        item = { key: command!.key, ok: false, error: { error: err.error, error_description: err.errorDescription } };
      } else {
        report.transportError = err instanceof Error ? err.message : String(err);
        if (answeredServerError(err)) {
          deps.store.effects.note(e.id, e.meta, 'v3', { ...note, serverError: true } satisfies V3Note);
          deps.logger.warn({ err, effect: e.effectKey }, 'REST 3.0 call answered 5xx; the key keeps no failure, so it is looked up (a create) or not sent again (docs/engine.md)');
        } else deps.logger.warn({ err, effect: e.effectKey }, 'REST 3.0 call outcome unknown; it is sent again with its Idempotency-Key once the first send cannot be running');
        return;
      }
    }
    deps.store.transaction(() => answer(command!, item, deps));
  }
}
