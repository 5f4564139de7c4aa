/** Safe path lookup: own properties only, so `constructor` or `__proto__` in a path never reaches a prototype. */

/** Follow `path` from `root`; undefined as soon as a segment is missing. */
export function resolvePath(root: unknown, path: readonly string[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (!Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}
