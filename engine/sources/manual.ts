/**
 * Manual source: `rules apply RULE --param k=v` stores one inbox item for the
 * rule; the pipeline runs it (a `foreach` rule becomes a bulk run, bounded by
 * its `max_records` and the command's `--max-records`).
 */
import { randomUUID } from 'node:crypto';
import { recordAdded, retireFinished, type Source, type SourceContext } from './types.js';

export interface ManualSource extends Source {
  /** Store a manual run of `ruleId` with these params; returns the item's inbox key. */
  submit(ruleId: string, params: Record<string, unknown>, options?: { key?: string; maxRecords?: number }): string;
}

export function createManualSource(ctx: SourceContext): ManualSource {
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
    async start() {},
    async stop() {},
    async acknowledge() {
      retireFinished(ctx, 'manual');
    },
  };
}
