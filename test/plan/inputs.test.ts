import { describe, expect, it } from 'vitest';
import { eventItems, parseAt, parseEvents, scheduleItemsAt, scheduleTickAt } from '../../engine/plan/inputs.js';
import { InputFileError } from '../../engine/plan/errors.js';
import type { CompiledRule } from '../../engine/rules/types.js';

function scheduleRule(id: string, cron: string, timezone = 'UTC'): CompiledRule {
  return { id, enabled: true, trigger: { kind: 'schedule', cron, timezone } } as unknown as CompiledRule;
}

describe('events file', () => {
  it('reads offline records and webhook payloads, one per line, and whole event.offline.get answers', () => {
    const text = [
      '{"ID":"7","EVENT_NAME":"onCrmDealUpdate","EVENT_DATA":{"FIELDS":{"ID":"5"}},"MESSAGE_ID":"m7","TIMESTAMP_X":"2026-11-24T09:00:00+03:00"}',
      '',
      '{"event":"ONCRMLEADADD","data":{"FIELDS":{"ID":"101"}},"ts":"1766047124"}',
      '{"result":{"process_id":null,"events":[{"ID":"8","EVENT_NAME":"ONCRMDEALADD","EVENT_DATA":false,"MESSAGE_ID":"m8"}]}}',
    ].join('\n');
    const events = parseEvents(text, 'e.jsonl');
    expect(events.map((e) => [e.name, e.line])).toEqual([['ONCRMDEALUPDATE', 1], ['ONCRMLEADADD', 3], ['ONCRMDEALADD', 4]]);
    expect(events[2]!.data).toEqual({});
    const items = eventItems(events, 1000);
    expect(items[0]).toMatchObject({ source: 'offline', event: 'ONCRMDEALUPDATE', messageId: 'm7', payload: { data: { FIELDS: { ID: '5' } }, message_id: 'm7' } });
    expect(items[1]).toMatchObject({ source: 'outgoing', event: 'ONCRMLEADADD', payload: { event: 'ONCRMLEADADD', ts: '1766047124' } });
    expect(new Set(items.map((i) => i.key)).size).toBe(3);
  });

  it('names the line of a bad event and says what a good one looks like', () => {
    const bad = () => parseEvents('{"event":"ONCRMLEADADD","data":{}}\n{"foo":1}\n', 'events.jsonl');
    expect(bad).toThrow(InputFileError);
    expect(bad).toThrow(/^events\.jsonl:2: no EVENT_NAME .* offline event record/);
    expect(() => parseEvents('not json', 'x.jsonl')).toThrow(/^x\.jsonl:1: not JSON/);
  });
});

describe('schedule ticks at a time', () => {
  const at = Date.parse('2026-11-24T09:00:30+03:00'); // a Tuesday
  it('fires rules whose cron matches that minute in their zone', () => {
    expect(scheduleTickAt(scheduleRule('a', '0 9 * * 1-5', 'Europe/Moscow'), at)).toBe(Date.parse('2026-11-24T09:00:00+03:00'));
    expect(scheduleTickAt(scheduleRule('b', '0 9 * * 1-5', 'UTC'), at)).toBeNull();
    expect(scheduleTickAt(scheduleRule('c', '0 9 * * 6', 'Europe/Moscow'), at)).toBeNull();
  });
  it('makes items as the schedule source does, sorted by rule id', () => {
    const items = scheduleItemsAt([scheduleRule('z', '* * * * *'), scheduleRule('a', '0 6 * * *')], at);
    expect(items.map((i) => i.key)).toEqual(['a@2026-11-24T06:00:00.000Z', 'z@2026-11-24T06:00:00.000Z']);
    expect(items[0]).toMatchObject({ source: 'schedule', ruleId: 'a', event: null, payload: { schedule: { at: '2026-11-24T06:00:00.000Z', cron: '0 6 * * *' } } });
  });
  it('parses --at only with an offset', () => {
    expect(parseAt('2026-11-24T09:00:00+03:00')).toBe(Date.parse('2026-11-24T06:00:00Z'));
    expect(parseAt('2026-11-24T09:00:00')).toBeNull();
    expect(parseAt('tomorrow')).toBeNull();
  });
});
