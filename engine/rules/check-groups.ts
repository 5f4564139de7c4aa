/**
 * The checks across the members of a `group:` (docs/rule-format.md, Groups and
 * priority), once every file is compiled: members compete for one event, so
 * they share one event trigger (no `for:`: a `for:` timer runs one rule alone),
 * and their priorities, the order they are checked in, are distinct. A member
 * with an error does not load, as with a duplicate id.
 */
import { canonicalJson } from '../canonical-json.js';
import type { CompiledRule, Diagnostic, SourceLocation, TriggerSpec } from './types.js';

/** A compiled rule with where its parts are. */
export interface GroupMember {
  rule: CompiledRule;
  /** file:line:col of a JSON pointer into the rule's document. */
  locate(pointer: string): SourceLocation;
}

function where(l: SourceLocation): string {
  return `${l.file}:${l.line}:${l.col}`;
}

/** The trigger as YAML would say it, for messages. */
function describeTrigger(t: TriggerSpec): string {
  switch (t.kind) {
    case 'event':
      return [`event: ${t.event}`, t.changed ? `changed: ${canonicalJson(t.changed)}` : '', t.for ? `for: ${t.for.source}` : ''].filter(Boolean).join(', ');
    case 'schedule':
      return `schedule: ${t.cron}`;
    case 'webhook':
      return `webhook: ${t.path}`;
    case 'manual':
      return 'manual';
  }
}

/** The trigger members must share: the event (any case), its entity and its `changed:`. */
function triggerIdentity(t: TriggerSpec): string {
  return t.kind === 'event' ? canonicalJson({ event: t.event.toUpperCase(), entity: t.entity ?? null, changed: t.changed ?? null }) : t.kind;
}

/** Problems of the groups among `members`; the members with an error are returned to be dropped. */
export function checkGroups(members: readonly GroupMember[]): { diagnostics: Diagnostic[]; failed: Set<CompiledRule> } {
  const diagnostics: Diagnostic[] = [];
  const failed = new Set<CompiledRule>();
  const byGroup = new Map<string, GroupMember[]>();
  for (const m of members) if (m.rule.group !== undefined) byGroup.set(m.rule.group, [...(byGroup.get(m.rule.group) ?? []), m]);
  const report = (m: GroupMember, code: string, pointer: string, message: string, hint: string) => {
    const at = m.locate(pointer);
    diagnostics.push({ severity: 'error', code, message, file: at.file, line: at.line, col: at.col, ruleId: m.rule.id, path: pointer, hint });
    failed.add(m.rule);
  };
  for (const [group, list] of byGroup) {
    // In the order they are checked in; equal priorities (an error below) in the load order.
    const ordered = [...list].sort((a, b) => (a.rule.priority ?? 0) - (b.rule.priority ?? 0));
    const events = ordered.filter((m) => m.rule.trigger.kind === 'event' && !m.rule.trigger.for);
    for (const m of ordered) {
      const t = m.rule.trigger;
      if (t.kind !== 'event' || t.for) {
        const what = t.kind !== 'event' ? `a ${t.kind} trigger (${describeTrigger(t)})` : `a for: trigger (${describeTrigger(t)})`;
        report(
          m,
          'GROUP_TRIGGER',
          t.kind === 'event' ? '/trigger/for' : '/trigger',
          `rule ${m.rule.id} is in group ${group} but has ${what}: the members of a group compete for one event, so each has the same event trigger without for:`,
          `give it the group's event trigger (trigger: { event: ONCRMLEADADD }), or remove group: ${group}`,
        );
      }
    }
    const first = events[0];
    if (first) {
      for (const m of events.slice(1)) {
        if (triggerIdentity(m.rule.trigger) === triggerIdentity(first.rule.trigger)) continue;
        report(
          m,
          'GROUP_TRIGGER',
          '/trigger',
          `rule ${m.rule.id} is in group ${group} with trigger ${describeTrigger(m.rule.trigger)}, but the group's first member ${first.rule.id} (${where(first.locate('/trigger'))}) has ${describeTrigger(first.rule.trigger)}: the members of a group share one trigger`,
          `write the same trigger as ${first.rule.id} (${describeTrigger(first.rule.trigger)}), or give this rule a group of its own`,
        );
      }
    }
    const taken = new Map<number, GroupMember[]>();
    for (const m of ordered) {
      const p = m.rule.priority ?? 0;
      taken.set(p, [...(taken.get(p) ?? []), m]);
    }
    const free = Math.max(...taken.keys()) + 1;
    for (const [priority, same] of taken) {
      if (same.length < 2) continue;
      for (const m of same) {
        const others = same.filter((x) => x !== m).map((x) => `${x.rule.id} (${where(x.locate('/priority'))})`);
        report(
          m,
          'GROUP_PRIORITY',
          '/priority',
          `rule ${m.rule.id} and ${others.join(', ')} of group ${group} both have priority ${priority}: a group checks its members in priority order, so each needs its own`,
          `give each member of group ${group} a different priority, e.g. priority: ${free} (lower is checked first)`,
        );
      }
    }
  }
  return { diagnostics, failed };
}
