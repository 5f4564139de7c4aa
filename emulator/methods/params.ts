/** Reading method parameters the way portals do: names case-insensitively (`FILTER` = `filter`), ids as positive integers. */
import type { Params } from '../types.js';
import { PortalError } from '../types.js';

/** A parameter by name: exact match first, then case-insensitive. */
export function param(params: Params, name: string): unknown {
  if (name in params) return params[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(params)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** A positive integer id as a string, or undefined. */
export function asId(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return String(v);
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v) && Number(v) > 0) return String(Number(v));
  return undefined;
}

/** The `id` parameter of a legacy method, or the portal's "ID is not defined or invalid." (400, empty code). */
export function legacyId(params: Params): string {
  const id = asId(param(params, 'id'));
  if (id === undefined) throw new PortalError(400, '', 'ID is not defined or invalid.');
  return id;
}

/** An object parameter (`fields`), or undefined when absent or not a map. */
export function objectParam(params: Params, name: string): Record<string, unknown> | undefined {
  const v = param(params, name);
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  return undefined;
}

/** A boolean-ish flag (`Y`, `1`, `true`). */
export function flag(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 'Y' || v === 'y' || v === 'true';
}
