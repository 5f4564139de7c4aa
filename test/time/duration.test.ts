import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, parseDuration } from '../../engine/time/index.js';

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    ['PT2H', 7_200_000],
    ['P1DT12H', 129_600_000],
    ['PT90S', 90_000],
    ['P2W', 1_209_600_000],
    [3600, 3_600_000],
    ['120', 120_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '2 hours', 'h', '2x', 'P1M', 'P', 'PT', '-5m', -1, null, '5000d'])('refuses %j with what to write', (text) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
    expect(() => parseDuration(text)).toThrow(/write|longer than/);
  });

  it('formats for traces', () => {
    expect(formatDuration(7_200_000)).toBe('2h');
    expect(formatDuration(102_600_000)).toBe('1d 4h 30m');
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(250)).toBe('250ms');
  });
});
