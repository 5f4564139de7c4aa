/** Reading rendered action options with clear errors. */
import type { EntityName } from '../rules/index.js';
import { isEntityName } from '../facts/index.js';
import { ActionConfigError } from './errors.js';

export function entityOpt(action: string, cfg: Record<string, unknown>, allowed?: readonly EntityName[]): EntityName {
  const e = cfg.entity;
  if (!isEntityName(e) || (allowed && !allowed.includes(e))) {
    throw new ActionConfigError(action, `entity must be one of ${(allowed ?? ['lead', 'deal', 'contact', 'company', 'task', 'item']).join(', ')}, got ${JSON.stringify(e)}`);
  }
  return e;
}

export function idOpt(action: string, cfg: Record<string, unknown>, key = 'id'): string {
  const v = cfg[key];
  if ((typeof v !== 'string' && typeof v !== 'number') || String(v).trim() === '') {
    throw new ActionConfigError(action, `${key} is empty (${JSON.stringify(v)}); check the template that fills it`);
  }
  return String(v).trim();
}

export function stringOpt(action: string, cfg: Record<string, unknown>, key: string, required = true): string | undefined {
  const v = cfg[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new ActionConfigError(action, `${key} is required`);
    return undefined;
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function objectOpt(action: string, cfg: Record<string, unknown>, key: string, required = true): Record<string, unknown> | undefined {
  const v = cfg[key];
  if (v === undefined || v === null) {
    if (required) throw new ActionConfigError(action, `${key} is required`);
    return undefined;
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw new ActionConfigError(action, `${key} must be an object`);
  return v as Record<string, unknown>;
}

export function entityTypeIdOpt(cfg: Record<string, unknown>): number | undefined {
  const v = Number(cfg.entityTypeId ?? cfg.entity_type_id);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** Users given as numbers, numeric strings or `user_14`. */
export function userIdOpt(action: string, v: unknown, key: string): number {
  const n = typeof v === 'string' ? Number(v.replace(/^user_/, '')) : Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ActionConfigError(action, `${key} must be a user ID, got ${JSON.stringify(v)}`);
  return n;
}
