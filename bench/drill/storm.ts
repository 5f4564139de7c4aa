/**
 * The rate-limit storm: a second client of the same portal, on the same
 * address (the portal's leaky bucket is per client address), sends a cheap
 * read at a steady 100 requests a second for a while, far above the bucket's
 * 2, so the daemon meets 503 QUERY_LIMIT_EXCEEDED on its own calls. The pace
 * does not wait for answers (a slow portal must not slow the storm), and at
 * most 64 requests are in flight, so the drill's process, which hosts the
 * portal, stays responsive.
 */

export interface StormResult {
  requests: number;
  /** Answers 503 QUERY_LIMIT_EXCEEDED. */
  refused: number;
  ms: number;
}

/** Flood `url` for `seconds` at `perSecond` requests a second. */
export async function flood(url: string, seconds: number, options: { perSecond?: number; maxInFlight?: number } = {}): Promise<StormResult> {
  const started = Date.now();
  const end = started + seconds * 1000;
  const gapMs = 1000 / (options.perSecond ?? 100);
  const maxInFlight = options.maxInFlight ?? 64;
  let requests = 0;
  let refused = 0;
  const inFlight = new Set<Promise<void>>();
  while (Date.now() < end) {
    if (inFlight.size < maxInFlight) {
      requests++;
      const p: Promise<void> = fetch(url, { method: 'POST', signal: AbortSignal.timeout(10_000) })
        .then(async (res) => {
          if (res.status === 503) refused++;
          await res.arrayBuffer();
        })
        // Dropped by the fault injector, or timed out: the storm goes on.
        .catch(() => undefined)
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await new Promise((r) => setTimeout(r, gapMs));
  }
  await Promise.all(inFlight);
  return { requests, refused, ms: Date.now() - started };
}
