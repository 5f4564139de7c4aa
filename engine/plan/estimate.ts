/**
 * How long a plan takes at the portal's request-rate limit. Bitrix24 limits
 * HTTP requests per portal with a leaky bucket (API-FACTS §2.1): a burst of X
 * requests passes at once, then the bucket drains Y per second. One `batch`
 * of up to 50 commands is one request.
 */
import type { PlanEstimate, RatePlan } from './types.js';

/** The two published limit profiles. */
export const RATE_LIMITS: Record<RatePlan, { burst: number; ratePerSecond: number }> = {
  /** Every plan except Enterprise: burst 50, 2 requests/s. */
  standard: { burst: 50, ratePerSecond: 2 },
  /** Enterprise: burst 250, 5 requests/s. */
  enterprise: { burst: 250, ratePerSecond: 5 },
};

/**
 * Estimate requests and seconds from an idle bucket: the first `burst`
 * requests go at once, the rest at the drain rate (rounded up to whole seconds).
 */
export function estimate(readRequests: number, writeRequests: number, plan: RatePlan = 'standard'): PlanEstimate {
  const { burst, ratePerSecond } = RATE_LIMITS[plan];
  const total = readRequests + writeRequests;
  const seconds = total <= burst ? 0 : Math.ceil((total - burst) / ratePerSecond);
  return {
    plan,
    burst,
    rate_per_second: ratePerSecond,
    read_requests: readRequests,
    write_requests: writeRequests,
    http_requests: total,
    seconds,
  };
}

/** Parse `--plan` / `B24_PLAN`; undefined means standard. */
export function isRatePlan(value: unknown): value is RatePlan {
  return value === 'standard' || value === 'enterprise';
}
