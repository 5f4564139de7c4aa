/**
 * A strict parser of the Prometheus text exposition format 0.0.4, written
 * against the format's specification (prometheus.io, "Exposition formats";
 * prom-client has no parser of its own). It throws at the first line that
 * breaks a rule, naming the line: a bad metric or label name, an escape other
 * than \\ \" \n, a repeated label, a value that is no float, HELP or TYPE given
 * twice or TYPE after a sample, a family whose lines are not one group, a
 * series given twice, and for histograms: buckets without `le`, not cumulative,
 * no +Inf bucket, or a _count other than the +Inf bucket.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum`...). */
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

class ExpositionError extends Error {}

function fail(lineNo: number, line: string, why: string): never {
  throw new ExpositionError(`line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

/** A float as the format writes it: decimal or exponent, NaN, +Inf, -Inf (any case, as Go's ParseFloat). */
function parseValue(text: string, lineNo: number, line: string): number {
  if (FLOAT.test(text)) return Number(text);
  if (/^[+]?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  return fail(lineNo, line, `'${text}' is not a float`);
}

/** The text of a HELP line or label value with its escapes resolved; `allowed` are the characters that may follow a backslash. */
function unescape(text: string, allowed: string, lineNo: number, line: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === undefined || !allowed.includes(next)) fail(lineNo, line, `invalid escape '\\${next ?? ''}'`);
    out += next === 'n' ? '\n' : next;
    i++;
  }
  return out;
}

function parseLabels(rest: string, lineNo: number, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let s = rest.slice(1);
  for (;;) {
    if (s.startsWith('}')) return { labels, rest: s.slice(1) };
    const name = LABEL.exec(s)?.[0];
    if (!name) fail(lineNo, line, 'bad label name');
    if (Object.hasOwn(labels, name)) fail(lineNo, line, `label '${name}' given twice`);
    s = s.slice(name.length);
    if (!s.startsWith('="')) fail(lineNo, line, `label '${name}' needs ="value"`);
    s = s.slice(2);
    let end = 0;
    while (end < s.length && s[end] !== '"') end += s[end] === '\\' ? 2 : 1;
    if (end >= s.length) fail(lineNo, line, 'unterminated label value');
    labels[name] = unescape(s.slice(0, end), '\\"n', lineNo, line);
    s = s.slice(end + 1);
    if (s.startsWith(',')) s = s.slice(1);
    else if (!s.startsWith('}')) fail(lineNo, line, 'expected , or } after a label');
  }
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]))}`;
}

/** The family a sample belongs to: a histogram's or summary's _bucket/_sum/_count go to their base name when it was typed so. */
function familyOf(sample: string, types: Map<string, MetricType>): string {
  for (const [suffix, kinds] of [
    ['_bucket', ['histogram']],
    ['_sum', ['histogram', 'summary']],
    ['_count', ['histogram', 'summary']],
  ] as const) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length);
      const t = types.get(base);
      if (t && (kinds as readonly string[]).includes(t)) return base;
    }
  }
  return sample;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: Array<{ le: number; value: number }>; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.keys(rest).sort().map((k) => [k, rest[k]]));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new ExpositionError(`histogram ${f.name}: a bucket without le`);
      const bound = /^\+?inf$/i.test(le) ? Infinity : Number(le);
      if (Number.isNaN(bound) || (!FLOAT.test(le) && bound !== Infinity)) throw new ExpositionError(`histogram ${f.name}: le="${le}" is not a float`);
      g.buckets.push({ le: bound, value: s.value });
    } else if (s.name === `${f.name}_count`) g.count = s.value;
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else throw new ExpositionError(`histogram ${f.name}: unexpected sample ${s.name}`);
  }
  for (const [key, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a.le - b.le);
    for (let i = 1; i < sorted.length; i++) {
      if ((sorted[i] as { value: number }).value < (sorted[i - 1] as { value: number }).value) throw new ExpositionError(`histogram ${f.name}${key}: buckets are not cumulative`);
    }
    const inf = sorted.find((b) => b.le === Infinity);
    if (!inf) throw new ExpositionError(`histogram ${f.name}${key}: no +Inf bucket`);
    if (g.count === undefined || g.sum === undefined) throw new ExpositionError(`histogram ${f.name}${key}: _count and _sum are required`);
    if (g.count !== inf.value) throw new ExpositionError(`histogram ${f.name}${key}: _count ${g.count} is not the +Inf bucket ${inf.value}`);
  }
}

/** Parse an exposition strictly; throws at the first violation. Families by name. */
export function parseExposition(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new ExpositionError('the last line must end with a line feed');
  const families = new Map<string, Family>();
  const types = new Map<string, MetricType>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const open = (name: string, lineNo: number, line: string): Family => {
    if (current !== name) {
      if (closed.has(name)) fail(lineNo, line, `the lines of ${name} are not one group`);
      if (current !== undefined) closed.add(current);
      current = name;
    }
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: types.get(name) ?? 'untyped', samples: [] }));
    return f;
  };
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m as unknown as [string, 'HELP' | 'TYPE', string, string | undefined];
      if (!NAME.test(name) || NAME.exec(name)?.[0] !== name) fail(lineNo, line, `bad metric name '${name}'`);
      const f = open(name, lineNo, line);
      if (kind === 'HELP') {
        if (f.help !== undefined) fail(lineNo, line, `HELP for ${name} given twice`);
        f.help = unescape(rest, '\\n', lineNo, line);
      } else {
        if (types.has(name)) fail(lineNo, line, `TYPE for ${name} given twice`);
        if (f.samples.length > 0) fail(lineNo, line, `TYPE for ${name} after its samples`);
        if (!TYPES.has(rest as MetricType)) fail(lineNo, line, `unknown type '${rest}'`);
        types.set(name, rest as MetricType);
        f.type = rest as MetricType;
      }
      return;
    }
    const name = NAME.exec(line)?.[0];
    if (!name) fail(lineNo, line, 'a sample must start with a metric name');
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, lineNo, line));
    const parts = rest.split(/[ \t]+/);
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3) fail(lineNo, line, 'expected a value and an optional timestamp after the name and labels');
    const value = parseValue(parts[1] as string, lineNo, line);
    const sample: Sample = { name, labels, value };
    if (parts[2] !== undefined) {
      if (!/^-?\d+$/.test(parts[2])) fail(lineNo, line, 'the timestamp must be an integer (ms)');
      sample.timestamp = Number(parts[2]);
    }
    const key = seriesKey(name, labels);
    if (series.has(key)) fail(lineNo, line, 'this series was given before');
    series.add(key);
    open(familyOf(name, types), lineNo, line).samples.push(sample);
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** The samples of family `name` whose labels include `labels`. */
export function samplesOf(families: Map<string, Family>, sampleName: string, labels: Record<string, string> = {}): Sample[] {
  const out: Sample[] = [];
  for (const f of families.values()) {
    for (const s of f.samples) if (s.name === sampleName && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s);
  }
  return out;
}
