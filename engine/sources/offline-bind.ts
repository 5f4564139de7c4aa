/**
 * Binding the offline events the rules need (`event.get`, then `event.bind`
 * with `event_type=offline` for each one missing), and what a refusal means.
 * The same `event.get` tells whether the ONOFFLINEEVENT wake-up is bound.
 *
 * `event.get` is a read and `event.bind` an idempotent write (method-kind.ts),
 * so the client re-sends both after a dropped connection or a 5xx. A re-sent
 * bind whose first attempt did run is refused by the portal with
 * `ERROR_CORE` "Unable to set event handler: Handler already binded" (HTTP
 * 400): the source then asks `event.get` again and counts the event as bound
 * when the portal shows it, instead of failing the start.
 */
import { B24ApiError, type B24ClientApi } from '../client/index.js';
import { B24RulesError } from '../errors.js';
import type { Logger } from '../logger.js';
import { OfflineSourceError } from './offline-error.js';

/** The portal's code for a refused `event.bind`, among others "Handler already binded" (it has no code of its own). */
const BIND_REFUSED = 'ERROR_CORE';

/** What `event.get` shows the app: its offline events for one connector, and whether the ONOFFLINEEVENT wake-up is bound. */
export interface Bindings {
  /** Offline events bound for the connector, upper-case (a binding for another connector queues elsewhere and does not count). */
  offline: Set<string>;
  /** `ONOFFLINEEVENT` is bound online with a handler: the portal calls it when records are queued (on-offline-event.md). */
  wakeUp: boolean;
}

/** The app's bindings as `event.get` shows them. */
export async function readBindings(client: B24ClientApi, connector: string): Promise<Bindings> {
  const env = await client.call<Array<Record<string, unknown>>>('event.get', {});
  const offline = new Set<string>();
  let wakeUp = false;
  for (const h of Array.isArray(env.result) ? env.result : []) {
    if (typeof h.event !== 'string') continue;
    const sameConnector = h.connector_id === undefined || h.connector_id === null || String(h.connector_id) === connector;
    if (Number(h.offline) === 1 && sameConnector) offline.add(h.event.toUpperCase());
    if (Number(h.offline) !== 1 && h.event.toUpperCase() === 'ONOFFLINEEVENT' && typeof h.handler === 'string' && h.handler !== '') wakeUp = true;
  }
  return { offline, wakeUp };
}

/**
 * Bind the events of `events` that `event.get` does not show yet; returns the
 * names bound now, and whether the ONOFFLINEEVENT wake-up is bound. Throws
 * what bindFailure makes of a failure.
 */
export async function bindOfflineEvents(client: B24ClientApi, connector: string, events: readonly string[], logger: Logger): Promise<{ bound: string[]; wakeUp: boolean }> {
  if (events.length === 0) return { bound: [], wakeUp: false };
  let bindings: Bindings;
  try {
    bindings = await readBindings(client, connector);
  } catch (err) {
    throw bindFailure(err);
  }
  const missing = events.filter((e) => !bindings.offline.has(e));
  for (const event of missing) {
    try {
      await client.call('event.bind', { event, event_type: 'offline', auth_connector: connector });
    } catch (err) {
      if (!(await boundAfterAll(client, connector, event, err))) throw bindFailure(err, event);
      logger.info({ event }, `offline event ${event} is bound already (an earlier attempt whose answer was lost bound it)`);
      continue;
    }
    logger.info({ event }, `bound offline event ${event}`);
  }
  return { bound: missing, wakeUp: bindings.wakeUp };
}

/** Whether a refused bind of `event` is one the portal carried out after all: "Handler already binded", and `event.get` shows it. */
async function boundAfterAll(client: B24ClientApi, connector: string, event: string, err: unknown): Promise<boolean> {
  if (!(err instanceof B24ApiError && err.code === 'B24_API_ERROR' && err.error === BIND_REFUSED)) return false;
  try {
    return (await readBindings(client, connector)).offline.has(event);
  } catch {
    return false;
  }
}

/**
 * The error to fail the start with when binding failed. A refusal that says
 * why offline events cannot work here becomes OFFLINE_SOURCE_FAILED with the
 * hint for that code only: administrator rights for ACCESS_DENIED, the plan
 * for WRONG_LICENSE, OAuth for a webhook (AUTH_WRONG_TYPE), the rules for an
 * unknown event. Anything else (the portal did not answer, a 5xx or a rate
 * limit after the client's retries, a bad token) is returned unchanged: its
 * own code says what happened, and neither rights nor the plan are the cause.
 */
export function bindFailure(err: unknown, event?: string): Error {
  if (!(err instanceof B24ApiError)) return err instanceof Error ? err : new B24RulesError('UNEXPECTED', String(err), { cause: err });
  let hint: string;
  if (err.error === 'ACCESS_DENIED') {
    hint = 'offline events need an OAuth app authorized by a portal administrator; authorize the app as an administrator';
  } else if (err.error === 'WRONG_LICENSE') {
    hint = "the portal's plan does not include it: auth_connector and extended offline events need the Professional plan or higher (check with feature.get, code rest_auth_connector)";
  } else if (err.code === 'AUTH_WRONG_TYPE') {
    hint = 'offline events need OAuth app auth (B24_AUTH_MODE=oauth), not an incoming webhook';
  } else if (err.error === 'ERROR_EVENT_NOT_FOUND') {
    hint = `the portal does not know the event ${event ?? 'a rule names'}: check the rules' event triggers`;
  } else {
    return err;
  }
  return new OfflineSourceError(`cannot bind the offline events the rules need (${err.message}): ${hint}`, { cause: err });
}
