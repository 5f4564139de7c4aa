/**
 * The offline-events plug-in (offline.ts is the source it attaches) and the
 * event names a rule set needs bound.
 */
import type { CompiledRule } from '../rules/index.js';
import { createOfflineSource } from './offline.js';
import { OfflineSourceError } from './offline-error.js';
import { startSource, type SourcePlugin } from './plugin.js';

/** The offline event names that `rules` need: the triggers of enabled event rules and the events their wait_for actions wait for. */
export function offlineEventNames(rules: CompiledRule[]): string[] {
  const triggers = rules.filter((r) => r.enabled && r.trigger.kind === 'event').map((r) => (r.trigger as { event: string }).event.toUpperCase());
  // The events a wait_for waits for come through the same queue.
  const waited = rules.filter((r) => r.enabled).flatMap((r) => r.actions.flatMap((a) => (a.waitFor ? [a.waitFor.event] : [])));
  return [...new Set([...triggers, ...waited])];
}

/**
 * The offline-events plug-in: attached in OAuth mode with a connector unless
 * turned off. Attaching binds the events the rules need and resolves; the
 * source's loop then recovers reservations and polls, while the daemon's loop
 * already works.
 */
export const offlinePlugin: SourcePlugin = {
  kind: 'offline',
  triggers: ['event'],
  applies: (setup) => setup.authMode === 'oauth' && setup.offline !== false && Boolean(setup.authConnector),
  async attach(ctx) {
    const connector = ctx.setup.authConnector;
    if (!connector) throw new OfflineSourceError('offline events need an auth connector (OAuth)');
    const tuning = typeof ctx.setup.offline === 'object' ? ctx.setup.offline : {};
    // The outgoing-webhook receiver (attached when an application token is set) hears ONOFFLINEEVENT and wakes this source.
    const signalReceiver = Boolean(ctx.setup.applicationToken);
    const source = await startSource(createOfflineSource({ client: ctx.client, authConnector: connector, events: offlineEventNames(ctx.rules), signalReceiver, ...tuning }, ctx));
    return {
      kind: source.kind,
      detach: () => source.stop(),
      acknowledge: () => source.acknowledge({ rideAlong: true }),
      wake: () => source.signal(),
      rulesChanged: (rules) => async () => {
        try {
          await source.setEvents(offlineEventNames(rules));
        } catch (err) {
          ctx.logger.warn({ err }, 'binding the offline events of the new rules failed; will bind at the next start');
        }
      },
    };
  },
};
