import { afterEach, describe, expect, it } from 'vitest';
import { dealEvent, drain, harness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('engine smoke', () => {
  it('comments on a deal for an update event', async () => {
    h = await harness(`
id: c1
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Seen {{ deal.TITLE }}" }
`);
    h.store.inbox.add([dealEvent(1)]);
    const r = await h.engine.tick();
    console.log(JSON.stringify(r), h.store.runs.list()[0]);
    expect(h.emu.calls.of('crm.timeline.comment.add').length).toBe(1);
    expect(await drain(h.engine, h.clock)).toBe(1);
  });
});
