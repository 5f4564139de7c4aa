/**
 * Hostile HTTP payloads for the daemon's receivers (`/b24/events`, the
 * outgoing-webhook receiver, and `/hooks/...`, the form receiver): deep
 * nesting (form brackets and JSON), huge bodies (declared and chunked), many
 * keys, broken JSON and encodings, odd content types and methods, prototype
 * keys, wrong or odd credentials, and random edits of a valid event. Every one
 * must get an answer below 500. Pure: the same seed gives the same payloads.
 *
 * A well-formed request that passes the credentials is stored and run: event
 * payloads use event names no drill rule listens to, and hook payloads go to
 * the sink rule, which never acts, so none of them adds an effect. The form
 * rule's path only gets wrong or missing secrets (a right one would make a
 * lead).
 */
import type { Random } from './random.js';
import { FORM_PATH, SINK_PATH } from './rules.js';

/** One request the payload fuzzer sends. */
export interface PayloadCase {
  /** What kind of payload (the report groups by it). */
  label: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer | null;
  /** Send without Content-Length (chunked). */
  chunked: boolean;
}

/** The credentials the daemon checks, so that most payloads reach its parser. */
export interface PayloadSecrets {
  applicationToken: string;
  sinkSecret: string;
}

const EVENT = '/b24/events';
const NO_RULE_EVENTS = ['ONCRMDEALUPDATE', 'ONCRMCONTACTDELETE', 'ONTASKUPDATE', 'ONCRMCOMPANYADD', 'ONOFFLINEEVENT', 'ONAPPINSTALL'];
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

function form(params: string[]): Buffer {
  return Buffer.from(params.join('&'));
}

/** A valid outgoing-webhook event body (form-encoded, as the portal sends it). */
function eventForm(rng: Random, token: string, extra: string[] = []): string[] {
  return [`event=${rng.pick(NO_RULE_EVENTS)}`, `data[FIELDS][ID]=${rng.int(1, 99999)}`, `ts=${rng.int(1_600_000_000, 1_900_000_000)}`, `auth[application_token]=${encodeURIComponent(token)}`, 'auth[domain]=drill.example', ...extra];
}

type Target = { path: string; headers: Record<string, string>; token: string | null };

/** Where a body goes: the events receiver (token in the body) or the sink hook (secret in a header). */
function target(rng: Random, s: PayloadSecrets): Target {
  return rng.chance(0.5) ? { path: EVENT, headers: {}, token: s.applicationToken } : { path: SINK_PATH, headers: { 'x-rules-secret': s.sinkSecret }, token: null };
}

function withToken(t: Target, rng: Random, params: string[]): string[] {
  return t.token === null ? params : [...params, ...eventForm(rng, t.token)];
}

function jsonEnvelope(t: Target, rng: Random, inner: string): string {
  if (t.token === null) return `{"drill":${inner}}`;
  return `{"event":"${rng.pick(NO_RULE_EVENTS)}","auth":{"application_token":${JSON.stringify(t.token)}},"data":${inner}}`;
}

const GENERATORS: Array<[weight: number, make: (rng: Random, s: PayloadSecrets) => PayloadCase]> = [
  [
    12,
    (rng, s) => {
      const t = target(rng, s);
      const depth = rng.pick([31, 33, 100, 1000, 5000, 20_000]);
      return { label: `form nested ${depth} deep`, path: t.path, method: 'POST', headers: { ...t.headers, 'content-type': FORM }, body: form(withToken(t, rng, [`data${'[a]'.repeat(depth)}=1`])), chunked: false };
    },
  ],
  [
    12,
    (rng, s) => {
      const t = target(rng, s);
      const depth = rng.pick([33, 1000, 10_000, 100_000]);
      const inner = rng.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      return { label: `JSON nested ${depth} deep`, path: t.path, method: 'POST', headers: { ...t.headers, 'content-type': JSON_TYPE }, body: Buffer.from(jsonEnvelope(t, rng, inner)), chunked: false };
    },
  ],
  [
    4,
    (rng, s) => {
      const t = target(rng, s);
      const size = rng.pick([1024 * 1024 + 1, 2 * 1024 * 1024, 4 * 1024 * 1024]);
      const chunked = rng.chance(0.5);
      const head = withToken(t, rng, []).join('&');
      const body = Buffer.alloc(size, 'a');
      body.write(`${head}&data[x]=`);
      return { label: `huge body ${Math.round(size / 1024)} KiB${chunked ? ' chunked' : ''}`, path: t.path, method: 'POST', headers: { ...t.headers, 'content-type': FORM }, body, chunked };
    },
  ],
  [
    5,
    (rng, s) => {
      const t = target(rng, s);
      const n = rng.pick([10_000, 50_000]);
      const keys = Array.from({ length: n }, (_, i) => (rng.chance(0.5) ? `k${i}=1` : `data[]=${i}`));
      return { label: `${n} keys`, path: t.path, method: 'POST', headers: { ...t.headers, 'content-type': FORM }, body: form(withToken(t, rng, keys)), chunked: false };
    },
  ],
  [
    10,
    (rng, s) => {
      const t = target(rng, s);
      const good = jsonEnvelope(t, rng, '{"FIELDS":{"ID":"7"}}');
      const bad = rng.pick([good.slice(0, rng.int(1, good.length - 1)), `${good}garbage`, '[1,2,3]', 'null', '"a string"', '42', 'NaN', '{"a":1,"a":2,"a":{"b":[}', `{"a":"\u0000\u0001"}`, '{', '']);
      return { label: 'broken JSON', path: t.path, method: 'POST', headers: { ...t.headers, 'content-type': JSON_TYPE }, body: Buffer.from(bad), chunked: false };
    },
  ],
  [
    6,
    (rng, s) => {
      const t = target(rng, s);
      const bytes = Buffer.from(Array.from({ length: rng.int(1, 4096) }, () => rng.int(0, 255)));
      return { label: 'random bytes', path: t.path, method: 'POST', headers: { ...t.headers, 'content-type': rng.pick([FORM, JSON_TYPE, 'text/plain']) }, body: bytes, chunked: rng.chance(0.2) };
    },
  ],
  [
    6,
    (rng, s) => {
      const t = target(rng, s);
      const type = rng.pick(['text/xml', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json; charset=utf-16', 'APPLICATION/JSON', 'application/x-www-form-urlencoded; charset=koi8-r', '', 'image/png', 'application/vnd.api+json']);
      const body = type.toLowerCase().includes('json') ? jsonEnvelope(t, rng, '{}') : withToken(t, rng, ['a=1']).join('&');
      return { label: `content type '${type}'`, path: t.path, method: 'POST', headers: { ...t.headers, ...(type ? { 'content-type': type } : {}) }, body: Buffer.from(body), chunked: false };
    },
  ],
  [
    6,
    (rng, s) => {
      const t = target(rng, s);
      const json = rng.chance(0.5);
      const body = json ? jsonEnvelope(t, rng, '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}') : withToken(t, rng, ['__proto__[polluted]=1', 'constructor[prototype][polluted]=1', 'data[__proto__][x]=1']).join('&');
      return { label: 'prototype keys', path: t.path, method: 'POST', headers: { ...t.headers, 'content-type': json ? JSON_TYPE : FORM }, body: Buffer.from(body), chunked: false };
    },
  ],
  [
    10,
    (rng, s) => {
      const odd = rng.pick(['', 'wrong-token', 'x'.repeat(10_000), '%00', s.applicationToken.toUpperCase(), `${s.applicationToken} `]);
      const shape = rng.pick(['value', 'array', 'object', 'missing']);
      const auth = shape === 'missing' ? [] : shape === 'array' ? [`auth[application_token][]=${encodeURIComponent(odd)}`] : shape === 'object' ? [`auth[application_token][a]=${encodeURIComponent(odd)}`] : [`auth[application_token]=${encodeURIComponent(odd)}`];
      return { label: `events: credentials ${shape}`, path: EVENT, method: 'POST', headers: { 'content-type': FORM }, body: form([`event=${rng.pick(NO_RULE_EVENTS)}`, 'data[FIELDS][ID]=1', ...auth]), chunked: false };
    },
  ],
  [
    8,
    (rng, s) => {
      const path = rng.pick([SINK_PATH, FORM_PATH, '/hooks/drill/nothing', '/hooks/', '/hooks/drill/form/../sink', `${SINK_PATH}?secret=${encodeURIComponent(s.sinkSecret)}`]);
      const secret = path.includes('?secret=') ? null : rng.pick([null, '', 'wrong', 'x'.repeat(5000), path === SINK_PATH ? s.sinkSecret : 'still-wrong']);
      return { label: `hooks: path '${path.replace(s.sinkSecret, '…')}' secret ${secret === null ? 'missing' : secret === s.sinkSecret ? 'right' : 'wrong'}`, path, method: 'POST', headers: { 'content-type': JSON_TYPE, ...(secret !== null ? { 'x-rules-secret': secret } : {}) }, body: Buffer.from('{"n":1}'), chunked: false };
    },
  ],
  [
    5,
    (rng, s) => {
      const t = target(rng, s);
      const method = rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
      return { label: `method ${method}`, path: t.path, method, headers: t.headers, body: null, chunked: false };
    },
  ],
  [
    8,
    (rng, s) => {
      const t = target(rng, s);
      const junk = rng.pick(['a[=1', 'a]]=1', '[[[=1', 'a[b]c[d]=1', '%ZZ=1', 'a=%', '&&&&=', '====', 'data[FIELDS][]][[=1', `a${'['.repeat(3000)}=1`, `${']'.repeat(3000)}=1`, 'data[FIELDS][ID][][][]=1']);
      return { label: 'bracket garbage', path: t.path, method: 'POST', headers: { ...t.headers, 'content-type': FORM }, body: form(withToken(t, rng, [junk])), chunked: false };
    },
  ],
  [
    4,
    (rng, s) => {
      const t = target(rng, s);
      return { label: 'header 20 KiB', path: t.path, method: 'POST', headers: { ...t.headers, 'content-type': FORM, 'x-drill-padding': 'p'.repeat(20 * 1024) }, body: form(withToken(t, rng, ['a=1'])), chunked: false };
    },
  ],
  [
    12,
    (rng, s) => {
      // A valid event with random edits.
      const text = eventForm(rng, s.applicationToken).join('&');
      const chars = [...text];
      for (let i = rng.int(1, 6); i > 0; i--) {
        const at = rng.int(0, chars.length - 1);
        const op = rng.int(0, 2);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, rng.string(1, '[]&=%{}"\\\u0000é'));
        else chars[at] = rng.string(1, '[]&=%');
      }
      return { label: 'edited valid event', path: EVENT, method: 'POST', headers: { 'content-type': FORM }, body: Buffer.from(chars.join('')), chunked: false };
    },
  ],
];

const TOTAL = GENERATORS.reduce((n, [w]) => n + w, 0);

/** The next payload from `rng`. */
export function nextPayload(rng: Random, secrets: PayloadSecrets): PayloadCase {
  let r = rng.float() * TOTAL;
  for (const [w, make] of GENERATORS) {
    if (r < w) return make(rng, secrets);
    r -= w;
  }
  return (GENERATORS[GENERATORS.length - 1] as (typeof GENERATORS)[number])[1](rng, secrets);
}

/** `count` payloads from `rng` (the sender makes them one at a time instead: the huge ones add up). */
export function makePayloads(count: number, rng: Random, secrets: PayloadSecrets): PayloadCase[] {
  return Array.from({ length: count }, () => nextPayload(rng, secrets));
}
