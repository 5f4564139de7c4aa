import { describe, expect, it } from 'vitest';
import { estimate } from '../../engine/plan/estimate.js';

describe('estimate', () => {
  it('is free within the burst', () => {
    expect(estimate(10, 40, 'standard')).toMatchObject({ http_requests: 50, seconds: 0, burst: 50, rate_per_second: 2 });
  });
  it('drains at 2/s past the standard burst, rounding up', () => {
    expect(estimate(50, 51).seconds).toBe(26);
    expect(estimate(0, 150).seconds).toBe(50);
  });
  it('uses 250 and 5/s on enterprise', () => {
    expect(estimate(0, 300, 'enterprise')).toMatchObject({ burst: 250, rate_per_second: 5, seconds: 10 });
  });
});
