/**
 * The one contract of a work source as the daemon sees it: a plug-in with a
 * kind name, a test of whether it applies to the daemon's configuration, and
 * `attach(context)`, which starts it and returns the handle that detaches it
 * again, like a Home Assistant trigger platform (`async_attach_trigger(...)`
 * returns its unsubscribe). The daemon keeps a registry of plug-ins
 * (registry.ts) and loops over it for start, reload, acknowledgement, health
 * and stop; it never names a source.
 */
import type { B24ClientApi } from '../client/index.js';
import type { CompiledRule, TriggerSpec } from '../rules/index.js';
import type { RequestHandler } from '../status/index.js';
import type { OfflineTuning } from './offline.js';
import type { ScheduleBook, Source, SourceContext } from './types.js';

/** A rule trigger kind (`event`, `schedule`, `webhook`, `manual`). */
export type TriggerKind = TriggerSpec['kind'];

/** The daemon's configuration as the plug-ins see it; each reads its own part. */
export interface SourceSetup {
  /** How the daemon authenticates to the portal (offline events need OAuth). */
  authMode: 'webhook' | 'oauth';
  /** OAuth: the connector key for offline events (and, in the client, every write). Unset with webhook auth. */
  authConnector?: string;
  /** The token the portal sends with outgoing webhooks; unset: no outgoing-webhook receiver. */
  applicationToken?: string;
  /** Offline events: false turns them off, an object tunes the polling. @default true */
  offline?: boolean | OfflineTuning;
  /** Values for rules' `env.NAME` (form hooks' secrets). */
  env: Record<string, string | undefined>;
}

/** What `attach` gets: the shared source context plus the daemon's rules, client and state. */
export interface AttachContext extends SourceContext {
  setup: SourceSetup;
  /** The rule set the daemon starts with; later sets arrive through `rulesChanged`. */
  rules: CompiledRule[];
  /** The daemon's REST client. */
  client: B24ClientApi;
  /** Last fires of schedules, kept in the state store. */
  schedules: ScheduleBook;
  /** The handle of a plug-in attached earlier, by kind (the outgoing receiver wakes the offline poller). */
  attached(kind: string): SourceHandle | undefined;
}

/** Applies a rule set that every attached source accepted. */
export type ApplyRules = () => void | Promise<void>;

/** An attached source. */
export interface SourceHandle {
  readonly kind: string;
  /** Stop taking new work. Idempotent; in-flight work finishes or is abandoned safely. */
  detach(): Promise<void>;
  /** Tell the outside which work is done (after each engine tick and once more on stop). */
  acknowledge?(): Promise<void>;
  /**
   * A reloaded rule set: validate it and throw to refuse it (the daemon then
   * keeps the running set everywhere), or return what applies it. Nothing is
   * applied until every attached source accepted the set.
   */
  rulesChanged?(rules: CompiledRule[]): ApplyRules | undefined | Promise<ApplyRules | undefined>;
  /**
   * Handlers mounted on the daemon's HTTP server, tried in registry order. A
   * source with routes is a receiver: it is detached only after the tick in
   * flight drained, right before the server closes, because the portal never
   * re-sends an event it could not deliver.
   */
  readonly routes?: readonly RequestHandler[];
  /** Take work now instead of at the next poll (a push signal). */
  wake?(): void;
  /** Fields for the daemon's start log line (mounted paths...). */
  describe?(baseUrl: string | null): Record<string, unknown>;
}

/** A kind of work source. */
export interface SourcePlugin<H extends SourceHandle = SourceHandle> {
  readonly kind: string;
  /** The rule triggers whose work this source brings in (the daemon warns about rules that no attached source serves). */
  readonly triggers: readonly TriggerKind[];
  /** Whether the daemon attaches it with this configuration. */
  applies(setup: SourceSetup): boolean;
  /** Start taking work (bind, recover, arm timers, accept requests); resolves once started. On failure nothing stays running. */
  attach(ctx: AttachContext): Promise<H>;
}

/** Start `source` for an `attach`; when starting fails, stop it before rethrowing, so nothing stays armed. */
export async function startSource<S extends Source>(source: S): Promise<S> {
  try {
    await source.start();
  } catch (err) {
    await source.stop().catch(() => undefined);
    throw err;
  }
  return source;
}
