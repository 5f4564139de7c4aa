/**
 * Which calls go through REST 3.0, and how (docs/client.md, "REST 3.0"):
 *
 * - Methods the catalog marks `v3` (REST 3.0 only: tasks.task.chat.message.send,
 *   humanresources.*, note.*, mail.* ...) always do, with their params as the
 *   caller wrote them: the REST 1 path answers them ERROR_METHOD_NOT_FOUND.
 * - `tasks.task.add`, in both APIs under one name, does when the client's
 *   `restV3` is on and the task's REST 1 fields all have a REST 3.0 name
 *   (api-reference/tasks/fields-rest-v3.md): the `Idempotency-Key` makes a
 *   creation safe to send again, so a task the engine creates needs no
 *   look-up by title after a crash. Its params are translated here and its
 *   answer (`{item}`) back to REST 1's shape (`{task}`, id as text), so the
 *   rule's plan, its tests and `as:` read the same either way. A task with
 *   co-executors, observers, tags or user fields (REST 3.0's add takes none of
 *   them) stays on REST 1.
 * - Everything else stays on REST 1: its `batch` carries 50 commands of any
 *   module in one request (REST 3.0's batch only REST 3.0 methods), and reads
 *   and updates are safe to send again without a key.
 */
import { methodApi } from './method-kind.js';
import type { Params } from './types.js';

/** A call as REST 3.0 takes it. */
export interface V3Route {
  method: string;
  params: Params;
  /** `fields.creatorId` is required and the call did not give it: the client fills in the calling user. */
  needsCreator?: boolean;
  /** The REST 3.0 result as the REST 1 method would have answered (identity for REST 3.0-only methods). */
  result(v3: unknown): unknown;
}

const same = (v3: unknown): unknown => v3;

/** tasks.task.add's REST 1 field → its REST 3.0 name and how the value is written (fields-rest-v3.md, "Объект задачи"). */
const TASK_FIELDS: Record<string, { name: string; kind: 'string' | 'int' | 'date' | 'priority' | 'crm' }> = {
  TITLE: { name: 'title', kind: 'string' },
  DESCRIPTION: { name: 'description', kind: 'string' },
  RESPONSIBLE_ID: { name: 'responsibleId', kind: 'int' },
  CREATED_BY: { name: 'creatorId', kind: 'int' },
  DEADLINE: { name: 'deadline', kind: 'date' },
  START_DATE_PLAN: { name: 'startPlan', kind: 'date' },
  END_DATE_PLAN: { name: 'endPlan', kind: 'date' },
  GROUP_ID: { name: 'groupId', kind: 'int' },
  PARENT_ID: { name: 'parentId', kind: 'int' },
  PRIORITY: { name: 'priority', kind: 'priority' },
  UF_CRM_TASK: { name: 'crmItemIds', kind: 'crm' },
};

/** REST 1's PRIORITY (0 low, 1 average, 2 high) as REST 3.0 writes it. */
const PRIORITIES: Record<string, string> = { '0': 'low', '1': 'average', '2': 'high' };

/** One REST 1 value in REST 3.0's type; undefined when it has none (the call then stays on REST 1). */
function taskValue(kind: (typeof TASK_FIELDS)[string]['kind'], v: unknown): { value: unknown } | undefined {
  switch (kind) {
    case 'string':
      return typeof v === 'string' || typeof v === 'number' ? { value: String(v) } : undefined;
    case 'int': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
      return Number.isSafeInteger(n) && n >= 0 ? { value: n } : undefined;
    }
    case 'date':
      return v === null || v === '' ? { value: null } : typeof v === 'string' ? { value: v } : undefined;
    case 'priority': {
      const p = PRIORITIES[String(v)];
      return p === undefined ? undefined : { value: p };
    }
    case 'crm': {
      const list = Array.isArray(v) ? v : [v];
      return list.every((x) => typeof x === 'string' && /^[A-Z]+_\d+$|^T[0-9a-f]+_\d+$/i.test(x)) ? { value: list } : undefined;
    }
  }
}

/** tasks.task.add's REST 1 params in REST 3.0's form; undefined when a field has no REST 3.0 equivalent. */
function taskAdd(params: Params): V3Route | undefined {
  const fields = params.fields;
  if (!fields || typeof fields !== 'object' || Array.isArray(fields)) return undefined;
  if (Object.keys(params).some((k) => k !== 'fields')) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields as Record<string, unknown>)) {
    const spec = TASK_FIELDS[k];
    if (!spec) return undefined;
    const value = taskValue(spec.kind, v);
    if (!value) return undefined;
    out[spec.name] = value.value;
  }
  if (out.title === undefined || out.responsibleId === undefined) return undefined;
  return {
    method: 'tasks.task.add',
    params: { fields: out },
    needsCreator: out.creatorId === undefined,
    result: (v3) => {
      const item = (v3 as { item?: Record<string, unknown> } | null)?.item;
      return item ? { task: { ...item, id: String(item.id) } } : v3;
    },
  };
}

/**
 * How `method` with these (REST 1) params goes through REST 3.0; undefined: it
 * goes through REST 1. `restV3` turns on the optional routes (methods in both
 * APIs); REST 3.0-only methods always go there.
 */
export function v3Route(method: string, params: Params, restV3: boolean): V3Route | undefined {
  const api = methodApi(method);
  if (api === 'v3') return { method, params, result: same };
  if (restV3 && method.trim().toLowerCase() === 'tasks.task.add') return taskAdd(params);
  return undefined;
}
