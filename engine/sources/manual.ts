/**
 * Manual source: `rules apply RULE --param k=v` stores one inbox item for the
 * rule; the pipeline runs it (a `foreach` rule becomes a bulk run, bounded by
 * its `max_records` and the command's `--max-records`). It is a plug-in like
 * the others, attached by `rules apply` (engine/daemon/apply-rule.ts), not by
 * the daemon.
 */
import { randomUUID } from 'node:crypto';
import type { SourceHandle, SourcePlugin } from './plugin.js';
import { recordAdded, retireFinished } from './types.js';

/** The attached manual source. */
export interface ManualHandle extends SourceHandle {
  /** Store a manual run of `ruleId` with these params; returns the item's inbox key. */
  submit(ruleId: string, params: Record<string, unknown>, options?: { key?: string; maxRecords?: number }): string;
  /** Retire finished manual items (the command's own wait was their acknowledgement). */
  acknowledge(): Promise<void>;
}

/** The manual plug-in: applies to every configuration; takes work only through `submit`. */
export const manualPlugin: SourcePlugin<ManualHandle> = {
  kind: 'manual',
  triggers: ['manual'],
  applies: () => true,
  async attach(ctx) {
    return {
      kind: 'manual',
      submit(ruleId, params, options = {}) {
        const key = options.key ?? `${ruleId}:${randomUUID()}`;
        const payload: Record<string, unknown> = { params };
        if (options.maxRecords !== undefined) payload.maxRecords = options.maxRecords;
        const result = ctx.inbox.add([{ source: 'manual', key, event: null, ruleId, payload, receivedAt: ctx.clock.now() }]);
        recordAdded(ctx, 'manual', result);
        return key;
      },
      async acknowledge() {
        retireFinished(ctx, 'manual');
      },
      async detach() {},
    };
  },
};
