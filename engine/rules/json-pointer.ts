/** JSON pointers (RFC 6901) into a rule document, the `path` of every diagnostic. */

const escapeSegment = (s: string | number) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

/** `base` followed by each segment, escaped: joinPointer('/load', 'a/b') is '/load/a~1b'. */
export function joinPointer(base: string, ...segments: Array<string | number>): string {
  return base + segments.map((s) => `/${escapeSegment(s)}`).join('');
}
