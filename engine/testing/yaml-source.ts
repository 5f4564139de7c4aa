/** YAML parsing that remembers where things are, so test-file errors can say file:line. */
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

export interface YamlSource {
  doc: Document;
  lines: LineCounter;
  /** 1-based line of the node at a JSON pointer (`/tests/2/expect`: the line of its key), or of the nearest existing parent. */
  lineOf(pointer: string): number;
}

export function parseYamlSource(text: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineOf = (pointer: string): number => {
    const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node: unknown = doc.contents;
    let line = 1;
    const at = (n: unknown): void => {
      const range = (n as Node | null)?.range;
      if (range) line = lines.linePos(range[0]).line;
    };
    at(node);
    for (const [i, part] of parts.entries()) {
      if (isMap(node)) {
        const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === part);
        if (!pair) break;
        at(pair.key);
        node = pair.value;
        if (node && i < parts.length - 1) at(node);
      } else if (isSeq(node)) {
        node = node.items[Number(part)];
        if (!node) break;
        at(node);
      } else break;
    }
    return line;
  };
  return { doc, lines, lineOf };
}
