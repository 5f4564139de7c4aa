/** Shared by the emulator tests: an injectable clock, an emulator on port 0, and plain-fetch calls. */
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.js';
import { stringifyPhpQuery } from '../../emulator/php-query.js';

export interface Clock {
  now(): number;
  advance(ms: number): void;
}

/** A clock that only moves when told. Starts at 2026-11-24 06:00 UTC (09:00 portal time, +03:00). */
export function manualClock(start = Date.parse('2026-11-24T06:00:00Z')): Clock {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** For tests about something else than the leaky bucket: their many calls at one frozen instant would hit it. */
export const NO_RATE_LIMIT = { burst: 1_000_000 };

export async function emulator(options: EmulatorOptions = {}): Promise<{ emu: Emulator; clock: Clock }> {
  const clock = manualClock();
  const emu = await startEmulator({ now: clock.now, ...options });
  return { emu, clock };
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** POST a JSON body. */
export async function post(url: string, params: Record<string, unknown> = {}): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(params) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** POST a form body in PHP bracket notation. */
export async function postForm(url: string, params: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: stringifyPhpQuery(params) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** GET with a query string. */
export async function get(url: string, query = ''): Promise<Answer> {
  const res = await fetch(query ? `${url}?${query}` : url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Call a method through the emulator's default webhook. */
export function hook(emu: Emulator, method: string, params: Record<string, unknown> = {}): Promise<Answer> {
  return post(`${emu.webhookUrl}${method}`, params);
}

/** Call a method with the app's access token (OAuth form: `/rest/{method}` with `auth`). */
export function oauth(emu: Emulator, method: string, params: Record<string, unknown> = {}, token = emu.app.access_token): Promise<Answer> {
  return post(`${emu.url}/rest/${method}`, { ...params, auth: token });
}

export type Row = Record<string, unknown>;
