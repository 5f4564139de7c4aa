/**
 * Reading a rule file into YAML documents, safely: a size cap, strict UTF-8
 * decoding (the offset of the first bad byte is reported), a cap on alias
 * expansion (billion laughs), on nesting depth, and a refusal of keys that
 * could pollute prototypes. Also maps JSON pointers back to line:col.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node as YamlNode } from 'yaml';
import type { Diagnostic } from './types.js';
import { DEFAULTS } from './limits.js';

/** One YAML document of a file, with its plain value and a pointer → position map. */
export interface SourceDocument {
  index: number;
  value: unknown;
  /** Position of the document's first node. */
  line: number;
  col: number;
  /** Where the JSON pointer points (the key when `key` is given: for unknown-key errors). */
  locate(pointer: string, key?: string): { line: number; col: number };
  /** Position inside a string scalar (template errors): offset into the string's value. */
  locateInString(pointer: string, offset: number): { line: number; col: number };
}

export interface ParsedSource {
  documents: SourceDocument[];
  diagnostics: Diagnostic[];
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Decode bytes as UTF-8 or report where the first invalid byte is. */
export function decodeUtf8(bytes: Uint8Array, file: string): { text?: string; diagnostic?: Diagnostic } {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { text: text.startsWith('\uFEFF') ? text.slice(1) : text };
  } catch {
    const offset = firstInvalidUtf8(bytes);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    return {
      diagnostic: {
        severity: 'error',
        code: 'ENCODING',
        message: `the file is not valid UTF-8: invalid byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')} at byte offset ${offset}`,
        file,
        line,
        col: offset - lineStart + 1,
        hint: 'save the file as UTF-8 (most editors: "Save with encoding" → UTF-8)',
      },
    };
  }
}

/** Offset of the first byte that breaks UTF-8 (bytes.length when none does). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n = 0;
    let min = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return b.length;
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Split a JSON pointer into segments. */
export function pointerSegments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.split('/').slice(1).map(unescapePointer);
}

interface Found {
  node: YamlNode | null;
  keyNode?: YamlNode;
}

function walk(root: YamlNode | null, segments: string[], key?: string): Found {
  let node: YamlNode | null = root;
  let keyNode: YamlNode | undefined;
  const all = key === undefined ? segments : [...segments, key];
  for (let i = 0; i < all.length; i++) {
    const seg = all[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      if (key !== undefined && i === all.length - 1) return { node: (pair.key as YamlNode) ?? node, keyNode: pair.key as YamlNode };
      keyNode = pair.key as YamlNode;
      node = (pair.value as YamlNode | null) ?? (pair.key as YamlNode);
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      keyNode = undefined;
      node = item as YamlNode;
    } else break;
  }
  return keyNode ? { node, keyNode } : { node };
}

/**
 * Offset where flow collections (`[`, `{`) nest deeper than `limit`, or -1.
 * A cheap scan before parsing: the yaml composer recurses per level, and
 * 100,000 levels cost seconds and hundreds of MB before it gives up. Quoted
 * strings and comments are skipped; a stray quote can only hide brackets, and
 * then the parser's own guard still catches real nesting.
 */
export function flowDepthExceeded(text: string, limit: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i;
    } else if (c === 0x5d || c === 0x7d) {
      if (depth > 0) depth--;
    } else if (c === 0x22 || c === 0x27) {
      const q = c;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (q === 0x22 && d === 0x5c) i++;
        else if (d === q) {
          if (q === 0x27 && text.charCodeAt(i + 1) === 0x27) i++;
          else break;
        }
      }
    } else if (c === 0x23 && (i === 0 || /\s/.test(text[i - 1]!))) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    }
  }
  return -1;
}

/** Parse a decoded file into documents; YAML and safety problems become diagnostics. */
export function parseSource(text: string, file: string): ParsedSource {
  const diagnostics: Diagnostic[] = [];
  const lineCounter = new LineCounter();
  const tooDeep = flowDepthExceeded(text, DEFAULTS.maxDepth);
  if (tooDeep >= 0) {
    const before = text.slice(0, tooDeep);
    const line = before.split('\n').length;
    const col = tooDeep - before.lastIndexOf('\n');
    diagnostics.push({ severity: 'error', code: 'NESTING_TOO_DEEP', message: `the YAML is nested more than ${DEFAULTS.maxDepth} levels deep`, file, line, col, hint: 'flatten the structure' });
    return { documents: [], diagnostics };
  }
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: true, strict: true }) as Document.Parsed[];
    if (!Array.isArray(docs)) docs = [];
  } catch (err) {
    const deep = err instanceof RangeError;
    diagnostics.push({
      severity: 'error',
      code: deep ? 'NESTING_TOO_DEEP' : 'YAML_SYNTAX',
      message: deep ? 'the YAML is nested too deeply to read' : `cannot parse the YAML: ${(err as Error).message}`,
      file,
      line: 1,
      col: 1,
      hint: `keep nesting under ${DEFAULTS.maxDepth} levels`,
    });
    return { documents: [], diagnostics };
  }
  if (docs.length > DEFAULTS.maxDocuments) {
    diagnostics.push({ severity: 'error', code: 'TOO_MANY_DOCUMENTS', message: `the file holds ${docs.length} YAML documents; at most ${DEFAULTS.maxDocuments} are read`, file, line: 1, col: 1, hint: 'split the rules over several files' });
    return { documents: [], diagnostics };
  }
  const pos = (offset: number | undefined) => {
    const p = lineCounter.linePos(offset ?? 0);
    return { line: p.line, col: p.col };
  };
  const documents: SourceDocument[] = [];
  docs.forEach((doc, index) => {
    const start = pos(doc.contents?.range?.[0] ?? doc.range?.[0]);
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const p = e.linePos?.[0] ?? pos(e.pos[0]);
        // The yaml package turns its own stack overflow on absurd nesting into a RESOURCE_EXHAUSTION document error.
        if (e.code === 'RESOURCE_EXHAUSTION') {
          diagnostics.push({ severity: 'error', code: 'NESTING_TOO_DEEP', message: 'the YAML is nested too deeply to read', file, line: p.line, col: p.col, hint: `keep nesting under ${DEFAULTS.maxDepth} levels` });
          break;
        }
        diagnostics.push({
          severity: 'error',
          code: 'YAML_SYNTAX',
          message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
          file,
          line: p.line,
          col: p.col,
          hint: e.code === 'DUPLICATE_KEY' ? 'each key may appear once per mapping' : 'check indentation, quotes and brackets near this position',
        });
      }
      return;
    }
    const idNode = isMap(doc.contents) ? doc.contents.get('id', true) : undefined;
    const ruleId = isScalar(idNode) && typeof idNode.value === 'string' ? { ruleId: idNode.value } : {};
    const problem = safetyCheck(doc.contents as YamlNode | null, 0);
    if (problem) {
      const p = pos(problem.offset);
      diagnostics.push({ severity: 'error', code: problem.code, message: problem.message, file, line: p.line, col: p.col, ...ruleId, hint: problem.hint });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: DEFAULTS.maxAliasCount });
    } catch (err) {
      const alias = err instanceof ReferenceError;
      diagnostics.push({
        severity: 'error',
        code: alias ? 'YAML_ALIAS_LIMIT' : 'YAML_SYNTAX',
        message: alias ? `the document expands more than ${DEFAULTS.maxAliasCount} aliases (a YAML "billion laughs" bomb?)` : (err as Error).message,
        file,
        line: start.line,
        col: start.col,
        ...ruleId,
        hint: 'write the values out instead of nesting aliases (*name)',
      });
      return;
    }
    if (value === null || value === undefined) return;
    const root = doc.contents as YamlNode | null;
    const nodePos = (n: YamlNode | null | undefined) => (n?.range ? pos(n.range[0]) : start);
    documents.push({
      index,
      value,
      line: start.line,
      col: start.col,
      locate(pointer, key) {
        const f = walk(root, pointerSegments(pointer), key);
        return nodePos(f.node);
      },
      locateInString(pointer, offset) {
        const f = walk(root, pointerSegments(pointer));
        const n = f.node;
        if (!isScalar(n) || !n.range || typeof n.value !== 'string') return nodePos(n);
        const quoted = n.type === 'QUOTE_DOUBLE' || n.type === 'QUOTE_SINGLE';
        const p = pos(n.range[0]);
        const raw = text.slice(n.range[0], n.range[1]);
        // Only single-line plain or quoted scalars without escapes map 1:1 from value offset to column.
        if ((n.type === 'PLAIN' || quoted) && !raw.includes('\n') && !raw.includes('\\') && !raw.includes("''")) return { line: p.line, col: p.col + offset + (quoted ? 1 : 0) };
        return p;
      },
    });
  });
  return { documents, diagnostics };
}

function safetyCheck(node: YamlNode | null, depth: number): { code: string; message: string; hint: string; offset?: number } | undefined {
  if (node === null || node === undefined) return undefined;
  if (depth > DEFAULTS.maxDepth) {
    return { code: 'NESTING_TOO_DEEP', message: `the YAML is nested more than ${DEFAULTS.maxDepth} levels deep`, hint: 'flatten the structure', offset: node.range?.[0] };
  }
  if (isAlias(node) || isScalar(node)) return undefined;
  if (isMap(node)) {
    for (const pair of node.items) {
      const k = pair.key as YamlNode | null;
      if (k !== null && !isScalar(k)) {
        return { code: 'YAML_KEY', message: 'a mapping key must be a plain name, not a list or a mapping', hint: 'use simple keys like `entity:`', offset: k.range?.[0] };
      }
      if (k !== null && FORBIDDEN_KEYS.has(String(k.value))) {
        return {
          code: 'FORBIDDEN_KEY',
          message: `the key '${String(k.value)}' is not allowed (it could alter object prototypes)`,
          hint: 'rename the key; __proto__, constructor and prototype are reserved',
          offset: k.range?.[0],
        };
      }
      const bad = safetyCheck(pair.value as YamlNode | null, depth + 1);
      if (bad) return bad;
    }
    return undefined;
  }
  if (isSeq(node)) {
    for (const item of node.items) {
      const bad = safetyCheck(item as YamlNode | null, depth + 1);
      if (bad) return bad;
    }
  }
  return undefined;
}
