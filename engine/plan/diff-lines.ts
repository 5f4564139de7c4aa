/**
 * Where a rule changed in its file: the first line of its document that
 * differs from the base's, so `rules diff --format github` puts its
 * annotation on the changed line rather than on the rule's `id:`.
 */

/** The lines of each rule document of a file: from its `id:` line to the line before the next document's `---` (or the end). */
export function ruleSpans(text: string, rules: Array<{ id: string; line: number }>): Map<string, { start: number; end: number }> {
  const lines = text.split(/\r?\n/);
  const sorted = [...rules].sort((a, b) => a.line - b.line);
  const out = new Map<string, { start: number; end: number }>();
  sorted.forEach((r, i) => {
    const next = sorted[i + 1]?.line ?? lines.length + 1;
    let end = next - 1;
    // The next document's separator and its leading comments belong to it.
    for (let l = next - 1; l > r.line; l--) {
      if (/^---\s*$/.test(lines[l - 1] ?? '')) {
        end = l - 1;
        break;
      }
    }
    if (r.id !== '') out.set(r.id, { start: r.line, end: Math.max(r.line, end) });
  });
  return out;
}

/**
 * The first line (1-based, in the change's text) of a rule's document that
 * differs from the base's document of the same rule; undefined when the two
 * documents are the same text.
 */
export function firstChangedLine(base: { text: string; start: number; end: number }, head: { text: string; start: number; end: number }): number | undefined {
  const slice = (s: { text: string; start: number; end: number }): string[] => s.text.split(/\r?\n/).slice(s.start - 1, s.end);
  const b = slice(base);
  const h = slice(head);
  let i = 0;
  while (i < b.length && i < h.length && b[i] === h[i]) i++;
  if (i === b.length && i === h.length) return undefined;
  return Math.min(head.start + i, head.end);
}
