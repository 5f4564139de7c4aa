/**
 * Parser of `{{ path | filter: arg }}` templates. A path is dotted
 * (`deal.ASSIGNED_BY_ID`, `deal.PHONE.0.VALUE`, `request.headers.x-token`)
 * with optional brackets for odd keys (`request.body["first name"]`, `rows[0]`).
 * A filter argument is a quoted string, a number, true/false/null, or bare text
 * up to the next `|` (`date: YYYY-MM-DD`).
 */
import { TemplateError } from './errors.js';
import { FILTERS, FILTER_NAMES } from './filters.js';
import { closest } from '../suggest.js';

export interface FilterCall {
  name: string;
  arg?: unknown;
  hasArg: boolean;
}

export interface TemplateExpr {
  /** Path segments; the first is the root name. */
  path: string[];
  filters: FilterCall[];
  /** Offset of `{{` in the source. */
  start: number;
  /** Offset just after `}}`. */
  end: number;
}

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'expr'; expr: TemplateExpr };

const IDENT = /[A-Za-z_$][A-Za-z0-9_$-]*/y;
const SEGMENT = /[A-Za-z0-9_$-]+/y;

/** Whether a string contains template syntax at all. */
export function hasTemplate(s: string): boolean {
  return s.includes('{{');
}

/** Split a template source into text and expressions; throws TemplateError with the offset of the problem. */
export function parseTemplate(source: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open < 0) {
      parts.push({ kind: 'text', text: source.slice(pos) });
      break;
    }
    if (open > pos) parts.push({ kind: 'text', text: source.slice(pos, open) });
    const close = source.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError('TEMPLATE_SYNTAX', `'{{' at position ${open + 1} is never closed with '}}'`, open, 'a template looks like {{ deal.TITLE }}');
    const expr = parseExpr(source, open + 2, close);
    parts.push({ kind: 'expr', expr: { ...expr, start: open, end: close + 2 } });
    pos = close + 2;
  }
  return parts;
}

function parseExpr(src: string, from: number, to: number): Omit<TemplateExpr, 'start' | 'end'> {
  let i = from;
  const ws = () => {
    while (i < to && /\s/.test(src[i]!)) i++;
  };
  const fail = (msg: string, hint = 'a template looks like {{ deal.TITLE }} or {{ deal.TITLE | upper }}'): never => {
    throw new TemplateError('TEMPLATE_SYNTAX', msg, i, hint);
  };
  ws();
  IDENT.lastIndex = i;
  const root = IDENT.exec(src);
  if (!root || root.index !== i || i >= to) fail(i >= to ? 'empty template {{ }}' : `a template must start with a name, found '${src.slice(i, to).trim()}'`);
  const path = [root![0]];
  i += root![0].length;
  for (;;) {
    if (src[i] === '.') {
      i++;
      SEGMENT.lastIndex = i;
      const seg = SEGMENT.exec(src);
      if (!seg || seg.index !== i || i >= to) fail(`expected a name after '.' in '${src.slice(from, to).trim()}'`);
      path.push(seg![0]);
      i += seg![0].length;
    } else if (src[i] === '[') {
      i++;
      ws();
      if (src[i] === '"' || src[i] === "'") {
        const { value, next } = readQuoted(src, i, to);
        path.push(value);
        i = next;
      } else {
        const m = /^\d+/.exec(src.slice(i, to));
        if (!m) fail(`expected a number or a quoted key inside [ ]`);
        path.push(m![0]);
        i += m![0].length;
      }
      ws();
      if (src[i] !== ']') fail(`expected ']'`);
      i++;
    } else break;
  }
  const filters: FilterCall[] = [];
  ws();
  while (i < to) {
    if (src[i] !== '|') fail(`unexpected '${src.slice(i, to).trim()}' after the path; use '|' before a filter`);
    i++;
    ws();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, to));
    if (!m) fail(`expected a filter name after '|'`, `filters: ${FILTER_NAMES.join(', ')}`);
    const name = m![0];
    const nameAt = i;
    i += name.length;
    const def = FILTERS[name];
    if (!Object.hasOwn(FILTERS, name) || def === undefined) {
      const guess = closest(name, FILTER_NAMES);
      throw new TemplateError('TEMPLATE_UNKNOWN_FILTER', `unknown filter '${name}'${guess ? `; did you mean '${guess}'?` : ''}`, nameAt, `filters: ${FILTER_NAMES.join(', ')}`);
    }
    ws();
    const call: FilterCall = { name, hasArg: false };
    if (src[i] === ':') {
      i++;
      ws();
      if (src[i] === '"' || src[i] === "'") {
        const { value, next } = readQuoted(src, i, to);
        call.arg = value;
        i = next;
      } else {
        let j = i;
        while (j < to && src[j] !== '|') j++;
        const text = src.slice(i, j).trim();
        if (text === '') fail(`filter '${name}' has ':' but no argument`, def.example);
        call.arg = literal(text);
        i = j;
      }
      call.hasArg = true;
      ws();
    }
    if (def.arg === 'required' && !call.hasArg) throw new TemplateError('TEMPLATE_FILTER_ARGUMENT', `filter '${name}' needs an argument`, nameAt, def.example);
    if (def.arg === 'none' && call.hasArg) throw new TemplateError('TEMPLATE_FILTER_ARGUMENT', `filter '${name}' takes no argument`, nameAt, def.example);
    const bad = call.hasArg ? def.check?.(call.arg) : undefined;
    if (bad) throw new TemplateError('TEMPLATE_FILTER_ARGUMENT', `filter '${name}' ${bad}, got ${JSON.stringify(call.arg)}`, nameAt, def.example);
    filters.push(call);
  }
  return { path, filters };
}

function readQuoted(src: string, at: number, to: number): { value: string; next: number } {
  const q = src[at];
  let out = '';
  for (let i = at + 1; i < to; i++) {
    const c = src[i]!;
    if (c === '\\' && i + 1 < to) {
      out += src[++i];
    } else if (c === q) {
      return { value: out, next: i + 1 };
    } else out += c;
  }
  throw new TemplateError('TEMPLATE_SYNTAX', `unterminated quoted string`, at, `close the quote: "text"`);
}

function literal(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}
