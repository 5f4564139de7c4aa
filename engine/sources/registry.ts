/**
 * The daemon's registry of built-in sources, in attach order: schedules, form
 * hooks, offline events (bound and recovered before the daemon's loop starts),
 * then outgoing webhooks, which wake the offline poller and so attach after
 * it. The manual source is not here: `rules apply` attaches it itself.
 */
import { formWebhookPlugin } from './form-webhook.js';
import { offlinePlugin } from './offline-plugin.js';
import { outgoingWebhookPlugin } from './outgoing-webhook.js';
import type { SourcePlugin, TriggerKind } from './plugin.js';
import { schedulePlugin } from './schedule.js';

/** The sources the daemon attaches by default (each when it applies to the configuration). */
export const DAEMON_SOURCES: readonly SourcePlugin[] = [schedulePlugin, formWebhookPlugin, offlinePlugin, outgoingWebhookPlugin];

/** What the daemon tells the operator when enabled rules use a trigger that no attached source serves. */
export const UNSERVED_TRIGGER_HINTS: Readonly<Partial<Record<TriggerKind, string>>> = {
  event:
    'event rules will not fire: offline events need OAuth (B24_AUTH_MODE=oauth) and outgoing webhooks need B24_APPLICATION_TOKEN; schedules, form hooks and manual runs work',
};
