/**
 * Regression: `load:` templates see `env` and `now`, as docs/rule-format.md
 * says (a load reads what `foreach` may read, and more). They rendered with the
 * run's stored facts only, where `env` never is, so `user.get` with an empty ID
 * read every user.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dealEvent, harness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const RULE = `
id: owner-from-env
env: [B24R_DUTY_USER]
trigger: { event: ONCRMDEALUPDATE }
load:
  duty: { entity: user, id: "{{ env.B24R_DUTY_USER }}" }
  older: { entity: deal, filter: { "<DATE_CREATE": "{{ now }}" }, select: [ID], limit: 1 }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "On duty: {{ duty.NAME }}" }
`;

describe('a load template', () => {
  it('reads env and now', async () => {
    h = await harness(RULE, { engine: { options: { env: { B24R_DUTY_USER: '2' } } } });
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const reads = h.emu.calls.of('user.get', { batch: true });
    // The user is read by ID (user.get with an `@ID` filter), as every record by ID.
    expect(reads.map((r) => (r.params.filter as Record<string, unknown>)['@ID'])).toEqual([['2']]);
    const lists = h.emu.calls.of('crm.deal.list', { batch: true }).filter((r) => (r.params.filter as Record<string, unknown>)['@ID'] === undefined);
    expect(lists.map((r) => (r.params.filter as Record<string, unknown>)['<DATE_CREATE'])).toEqual([new Date(h.clock.now()).toISOString()]);
    const comment = h.emu.store.all('timeline_comment').find((c) => String(c.COMMENT).startsWith('On duty:'));
    expect(comment?.COMMENT).toBe('On duty: Ben');
  });
});
