import { it } from 'vitest';
import { drain, harness, leadEvent } from './harness.js';
it('prof', async () => {
  const h = await harness(`
id: greet-leads
trigger: { event: ONCRMLEADADD }
load:
  contact: { entity: contact, id: "{{ lead.CONTACT_ID }}" }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "New lead {{ lead.TITLE }} for {{ contact.NAME }}" }
`);
  const ids = h.emu.store.seed('lead', Array.from({ length: 1000 }, (_, i) => ({ TITLE: `L ${i}`, CONTACT_ID: '1' })));
  h.store.inbox.add(ids.map((id) => leadEvent(id)));
  const origBatch = h.client.batch.bind(h.client);
  let net = 0;
  (h.client as any).batch = async (...a: any[]) => { const t = performance.now(); try { return await origBatch(...a); } finally { net += performance.now() - t; } };
  const t0 = performance.now();
  for (let i = 0; i < 6; i++) { const t = performance.now(); const r = await h.engine.tick(); console.log(i, Math.round(performance.now() - t), r.items, r.runsCreated, r.calls, r.batches); }
  console.log('total', Math.round(performance.now() - t0), 'net', Math.round(net));
  await h.close();
});
