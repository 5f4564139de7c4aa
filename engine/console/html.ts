/**
 * HTML with every interpolated value escaped: `html\`<td>${title}</td>\`` makes
 * a lead titled `<script>` text. Only fragments built by `html` itself (or
 * marked with `raw` for fixed markup) pass through unescaped.
 */

/** A fragment of HTML that is already safe. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escape text for an element's content or a quoted attribute. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c] as string);
}

/** A value as it goes into a template: fragments as they are, arrays joined, null and undefined as nothing, the rest escaped. */
function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

/** The template tag: literal parts as written, interpolations escaped. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Fixed markup written in the code (never data). */
export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}

/** A query string from parameters, empty values left out: `?rule=a&limit=50`. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
