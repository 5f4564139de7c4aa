/**
 * `var` paths, split once when the expression compiles, read own properties
 * only: `deal.constructor` is null, never read through a prototype. The same
 * semantics as varLookup (operators.ts) for every path and value, without
 * splitting the path at each evaluation.
 */

/** A literal `var` path: its segments, and what a missing value reads as (the default, or null). */
export interface VarPath {
  segs: readonly string[];
  notFound: unknown;
}

const hasOwn = Object.hasOwn;

/** Split `path` (not empty: an empty path is the data itself, which the caller handles). */
export function varPath(path: string, notFound: unknown): VarPath {
  return { segs: path.split('.'), notFound };
}

/**
 * Read a split path from `d` as varLookup does: own properties only; null or
 * undefined on the way gives `notFound`. One plain function, so that the
 * closures calling it (comparisons of a path with a literal) get it inlined.
 */
export function readOwn(d: unknown, segs: readonly string[], notFound: unknown): unknown {
  if (segs.length === 2) {
    const a = segs[0]!;
    const b = segs[1]!;
    if (d === null || d === undefined || !hasOwn(d, a)) return notFound;
    const x = (d as Record<string, unknown>)[a];
    if (x === null || x === undefined || !hasOwn(x, b)) return notFound;
    const v = (x as Record<string, unknown>)[b];
    return v === undefined ? notFound : v;
  }
  let cur = d;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (cur === null || cur === undefined || !hasOwn(cur, seg)) return notFound;
    cur = (cur as Record<string, unknown>)[seg];
    if (cur === undefined) return notFound;
  }
  return cur;
}
