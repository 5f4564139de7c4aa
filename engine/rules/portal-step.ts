/**
 * The loader's portal stage, between the schema and the compilation: names in
 * a rule (`{ name: Ivan Sokolov }`, `label:Region`) are resolved to IDs from
 * the portal snapshot, and once the rule compiles, every field code, stage,
 * pipeline, user and list value it writes is checked against the snapshot.
 * Without a snapshot a rule with names is an error and nothing else changes.
 */
import { checkRule, resolveNames, type PortalModel, type ResolvedName } from '../portal-model/index.js';
import { eventEntity } from './event-entity.js';
import { Reporter } from './reporter.js';
import type { SourceDocument } from './source.js';
import type { Diagnostic, NameUse } from './types.js';

/** Resolve the names of one schema-valid rule document in place. `failed`: a name could not be resolved (the rule does not compile). */
export function resolvePortalNames(value: Record<string, unknown>, doc: SourceDocument, file: string, ruleId: string | undefined, portal: PortalModel | undefined): { diagnostics: Diagnostic[]; names: NameUse[]; failed: boolean } {
  const reporter = new Reporter(doc, file, ruleId ?? '');
  const resolved = resolveNames(value, portal, eventEntity, (code, pointer, message, hint, key) => reporter.report(code, pointer, message, hint, key === undefined ? {} : { key }));
  return { diagnostics: reporter.diagnostics, names: resolved.map((n) => nameUse(n, doc)), failed: reporter.failed };
}

/** Check a compiled rule's document (its names resolved) against the snapshot. */
export function checkAgainstPortal(value: Record<string, unknown>, doc: SourceDocument, file: string, ruleId: string, portal: PortalModel): Diagnostic[] {
  const reporter = new Reporter(doc, file, ruleId);
  checkRule(value, portal, eventEntity, (code, pointer, message, hint, key) => reporter.report(code, pointer, message, hint, key === undefined ? {} : { key }));
  return reporter.diagnostics;
}

function nameUse(n: ResolvedName, doc: SourceDocument): NameUse {
  const pos = doc.locate(n.path);
  return { path: n.path, kind: n.kind, name: n.name, id: n.id, line: pos.line, col: pos.col };
}
