/**
 * The daemon's sources as one set: it attaches every plug-in of its registry
 * that applies to the configuration, in registry order, and from then on
 * speaks to them only through this loop (reload, acknowledge, health, HTTP
 * routes, stop), never naming a source.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { B24RulesError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CompiledRule } from '../rules/index.js';
import { UNSERVED_TRIGGER_HINTS, type ApplyRules, type AttachContext, type SourceHandle, type SourcePlugin } from '../sources/index.js';
import type { RequestHandler } from '../status/index.js';

interface Attached {
  plugin: SourcePlugin;
  handle: SourceHandle;
}

/** Two plug-ins of the registry share a kind name. */
export class SourceRegistryError extends B24RulesError {
  constructor(message: string) {
    super('SOURCE_REGISTRY_INVALID', message, { kind: 'bug' });
  }
}

/** The attached sources of one daemon run. */
export class AttachedSources {
  readonly #plugins: readonly SourcePlugin[];
  readonly #logger: Logger;
  #attached: Attached[] = [];
  #attaching = false;

  constructor(plugins: readonly SourcePlugin[], logger: Logger) {
    const kinds = plugins.map((p) => p.kind);
    const twice = kinds.find((k, i) => kinds.indexOf(k) !== i);
    if (twice !== undefined) throw new SourceRegistryError(`two source plug-ins are named '${twice}'`);
    this.#plugins = plugins;
    this.#logger = logger;
  }

  /** Kinds of the attached sources, in attach order. */
  get kinds(): string[] {
    return this.#attached.map((a) => a.handle.kind);
  }

  /** Nothing attached (before start, or after stop). */
  get empty(): boolean {
    return this.#attached.length === 0;
  }

  /**
   * Attach, in registry order, every plug-in that applies. A plug-in sees the
   * handles attached before it. When one fails, those already attached are
   * detached and the error is rethrown.
   */
  async attach(ctx: Omit<AttachContext, 'attached'>): Promise<void> {
    this.#attaching = true;
    try {
      for (const plugin of this.#plugins) {
        if (!plugin.applies(ctx.setup)) continue;
        const handle = await plugin.attach({ ...ctx, attached: (kind) => this.#attached.find((a) => a.handle.kind === kind)?.handle });
        this.#attached.push({ plugin, handle });
      }
    } catch (err) {
      for (const a of this.#attached) await a.handle.detach().catch(() => undefined);
      this.#attached = [];
      throw err;
    } finally {
      this.#attaching = false;
    }
  }

  /**
   * The attached sources' routes, for the daemon's HTTP server. While the
   * sources are being attached, a request none of them claims yet answers 503
   * (as a receiver not yet started does), so a sender retries later.
   */
  readonly handler: RequestHandler = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    for (const a of this.#attached) {
      for (const route of a.handle.routes ?? []) if (await route(req, res, url)) return true;
    }
    if (!this.#attaching) return false;
    res.writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ error: 'starting: not accepting requests yet' }));
    return true;
  };

  /** Every source acknowledges its finished work; a failure is logged and retried at the next call. */
  async acknowledge(): Promise<void> {
    for (const { handle } of this.#attached) {
      try {
        await handle.acknowledge?.();
      } catch (err) {
        this.#logger.warn({ err, source: handle.kind }, 'acknowledging finished work failed; will retry');
      }
    }
  }

  /**
   * Offer a reloaded rule set to every source. Throws the first refusal, with
   * nothing applied anywhere; otherwise returns what applies it in every
   * source (a source that fails to apply is logged, the others still apply).
   */
  async prepare(rules: CompiledRule[]): Promise<() => Promise<void>> {
    const steps: Array<{ kind: string; apply: ApplyRules }> = [];
    for (const { handle } of this.#attached) {
      const apply = await handle.rulesChanged?.(rules);
      if (apply) steps.push({ kind: handle.kind, apply });
    }
    return async () => {
      for (const step of steps) {
        try {
          await step.apply();
        } catch (err) {
          this.#logger.warn({ err, source: step.kind }, 'a source failed to take the new rules');
        }
      }
    };
  }

  /**
   * Detach sources: `pulling` ones (no HTTP routes) first, when the daemon
   * stops taking work; `receiving` ones only after the drain, right before the
   * server closes, since the portal never re-sends what it could not deliver.
   */
  async detach(which: 'pulling' | 'receiving'): Promise<void> {
    for (const { handle } of this.#attached) {
      const receiving = (handle.routes?.length ?? 0) > 0;
      if (receiving !== (which === 'receiving')) continue;
      await handle.detach().catch((err: unknown) => this.#logger.warn({ err, source: handle.kind }, 'stopping a source failed'));
    }
  }

  /** Forget the detached sources (the daemon stopped). */
  clear(): void {
    this.#attached = [];
  }

  /** Fields for the daemon's start log line, from every source. */
  describe(baseUrl: string | null): Record<string, unknown> {
    return Object.assign({}, ...this.#attached.map((a) => a.handle.describe?.(baseUrl) ?? {})) as Record<string, unknown>;
  }

  /** Warnings for enabled rules whose trigger no attached source serves (when the registry has a hint for it). */
  unserved(rules: CompiledRule[]): string[] {
    const served = new Set(this.#attached.flatMap((a) => a.plugin.triggers));
    const used = new Set(rules.filter((r) => r.enabled).map((r) => r.trigger.kind));
    return [...used].filter((k) => !served.has(k)).flatMap((k) => UNSERVED_TRIGGER_HINTS[k] ?? []);
  }
}
