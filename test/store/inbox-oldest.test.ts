/** inbox.oldestWaitingAt (the queue-age gauge of /metrics): the oldest item not yet done or dead, on both stores. */
import { expect, it } from 'vitest';
import { forEachStore } from '../helpers/stores.js';

forEachStore((stores) => {
  it('is the earliest receivedAt among pending and running items, null once none waits', () => {
    const s = stores.open();
    expect(s.inbox.oldestWaitingAt()).toBeNull();
    s.inbox.add([200, 100, 300].map((at) => ({ source: 'manual' as const, key: `k${at}`, event: null, ruleId: 'r', payload: {}, receivedAt: at })));
    expect(s.inbox.oldestWaitingAt()).toBe(100);
    const items = s.inbox.list({ limit: 10 });
    const byAt = (at: number) => items.find((i) => i.receivedAt === at)!.id;
    s.inbox.markRunning(byAt(200));
    s.inbox.finish(byAt(100), 'done');
    expect(s.inbox.oldestWaitingAt()).toBe(200);
    s.inbox.finish(byAt(200), 'dead', 'boom');
    expect(s.inbox.oldestWaitingAt()).toBe(300);
    s.inbox.finish(byAt(300), 'done');
    expect(s.inbox.oldestWaitingAt()).toBeNull();
  });
});
