import { describe, expect, it } from 'vitest';
import { checkCron, loadRuleSource } from '../../engine/rules/index.js';

describe('cron checks', () => {
  it.each(['0 9 * * 1-5', '*/15 * * * *', '30 6 * * *', '0 0 1 * *', '0 */2 * * MON-FRI', '15 0 9 * * 1-5', '@daily', '@hourly', '0 0 L * *'])('accepts %s', (expr) => {
    expect(checkCron(expr, 'UTC')).toBeUndefined();
  });

  it.each([
    ['0 9 * *', 'has 4 fields'],
    ['0 0 0 9 * * 2027', 'has 7 fields'],
    ['61 * * * *', 'Invalid value for minute'],
    ['0 9 * * funday', 'invalid cron expression'],
    ['0 0 30 2 *', 'never fires'],
    ['', 'has 1 field;'],
  ])('rejects %s', (expr, why) => {
    expect(checkCron(expr, 'UTC')).toContain(why);
  });

  it('a schedule rule with a bad zone reports the zone, and still checks the cron', () => {
    const r = loadRuleSource('id: s\ntrigger:\n  schedule: { cron: "0 99 * * *", timezone: Mars/Olympus }\nactions: [ { stop: {} } ]\n', 's.yaml');
    expect(r.diagnostics.map((d) => d.code).sort()).toEqual(['CRON_INVALID', 'TIMEZONE_INVALID']);
  });
});
