/**
 * A small `.env` parser (no dependency): `KEY=value` lines, `export KEY=value`,
 * `#` comments (whole line, or after whitespace in an unquoted value), single
 * quotes taken literally, double quotes with \n, \t, \" and \\ escapes.
 * Bad lines are reported with their line number.
 */
import { ConfigError } from './errors.js';

export function parseDotenv(text: string, file = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${file}:${i + 1}: expected KEY=value (letters, digits and '_' in KEY)`);
    const key = m[1] as string;
    let value = m[2] as string;
    if (value.startsWith("'")) {
      const end = value.indexOf("'", 1);
      if (end < 0) throw new ConfigError(`${file}:${i + 1}: ${key}: missing closing single quote`);
      value = value.slice(1, end);
    } else if (value.startsWith('"')) {
      let j = 1;
      let s = '';
      for (; j < value.length && value[j] !== '"'; j++) {
        const c = value[j] as string;
        if (c === '\\' && j + 1 < value.length) {
          const n = value[++j] as string;
          s += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
        } else s += c;
      }
      if (j >= value.length) throw new ConfigError(`${file}:${i + 1}: ${key}: missing closing double quote`);
      value = s;
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    out[key] = value;
  });
  return out;
}
