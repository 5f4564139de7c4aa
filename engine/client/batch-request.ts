/**
 * Building the body of a `batch` request: commands become `method?query`
 * strings, and write commands get the engine's `auth_connector`, in the params
 * of a call or appended to a raw command string. A raw
 * `call('batch', {cmd, halt})` is checked for its shape here; the client
 * checks each command's method and the read-only guard.
 */
import { B24RulesError } from '../errors.js';
import type { KeyedCommand } from './batch.js';
import { callKind, isCreateMethod } from './method-kind.js';
import { commandMethod, encodeCommand } from './query-string.js';
import type { MethodKind, Params } from './types.js';

const RAW_BATCH_KEYS = new Set(['cmd', 'halt', 'CMD', 'HALT']);

/**
 * Whether a write of `method` carries the connector: only when there is one
 * (OAuth; `undefined` otherwise). Record creations (`*.add`) are sent without
 * it on purpose: a lead the engine creates from a form must reach the other
 * rules (routing, scoring) as ONCRMLEADADD, like one a person created. Updates
 * carry it, so a rule that updates the record that triggered it never hears
 * about its own write.
 */
export function connectorApplies(connector: string | undefined, method: string): connector is string {
  return connector !== undefined && !isCreateMethod(method);
}

/** The params of a call, with `auth_connector` added to a write that should carry it (unless the caller set one). */
export function withConnector(connector: string | undefined, method: string, kind: MethodKind, params: Params): Params {
  if (kind !== 'write' || !connectorApplies(connector, method) || params.auth_connector !== undefined) return params;
  return { ...params, auth_connector: connector };
}

/** A raw `method?query` command string, with `auth_connector` appended to a write that should carry it (unless it has one). */
export function commandWithConnector(connector: string | undefined, method: string, kind: MethodKind, command: string): string {
  if (kind !== 'write' || !connectorApplies(connector, method) || /[?&]auth_connector=/.test(command)) return command;
  return `${command}${command.includes('?') ? '&' : '?'}auth_connector=${encodeURIComponent(connector)}`;
}

/** The `cmd` of one batch request: each command encoded as a query string, writes with the connector. */
export function encodeBatchCommands(commands: readonly KeyedCommand[], connector: string | undefined): Record<string, string> {
  const cmd: Record<string, string> = {};
  for (const c of commands) cmd[c.key] = encodeCommand(c.method, withConnector(connector, c.method, callKind(c.method, c.params), c.params));
  return cmd;
}

/** The params of a raw `call('batch', {cmd, halt})`, checked for their shape. */
export interface RawBatch {
  /** `[key, command]` in order (an array's keys are its indexes). */
  entries: Array<[string, unknown]>;
  /** `cmd` was an array: send the commands back as one. */
  isArray: boolean;
  halt: unknown;
}

/** Check a raw batch's params: `cmd` (or `CMD`) is an object or array, and only `cmd`, `halt` and `auth_connector` are given. */
export function readRawBatch(params: Params): RawBatch {
  const cmd = params.cmd ?? params.CMD;
  if (!cmd || typeof cmd !== 'object') {
    throw new B24RulesError('BATCH_INVALID', "batch params need 'cmd': an object (or array) of 'method?query' strings", { kind: 'user' });
  }
  for (const k of Object.keys(params)) {
    if (!RAW_BATCH_KEYS.has(k) && k !== 'auth_connector') {
      throw new B24RulesError('BATCH_INVALID', `batch takes only 'cmd' and 'halt'; got '${k}'`, { kind: 'user' });
    }
  }
  return { entries: Object.entries(cmd as Record<string, unknown>), isArray: Array.isArray(cmd), halt: params.halt ?? params.HALT ?? 0 };
}

/** One raw command: its method and its query as flat params (enough to tell read from write and idempotence). */
export function readRawCommand(key: string, value: unknown): { command: string; method: string; query: Params } {
  if (typeof value !== 'string') throw new B24RulesError('BATCH_INVALID', `batch cmd '${key}' must be a 'method?query' string`, { kind: 'user' });
  const method = commandMethod(value);
  return { command: value, method, query: Object.fromEntries(new URLSearchParams(value.slice(method.length + 1))) };
}
