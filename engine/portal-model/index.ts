/**
 * The portal's model: `rules portal pull` reads the fields, pipelines, stages,
 * list values, users and smart-process types of the portal into a snapshot
 * (`.rules/portal.json`) and a schema overlay for editors; the rule loader
 * resolves names (`{ name: Ivan Sokolov }`, `label:Region`) to IDs with it and
 * checks every ID a rule writes against it (docs/rule-format.md, The portal's
 * model).
 */
import { checkRule } from './check-rule.js';
import { findSnapshotFile, OVERLAY_FILE, SNAPSHOT_FILE } from './find-snapshot.js';
import { entityKey, PortalModel, type EntityRef } from './model.js';
import { buildOverlay } from './overlay.js';
import { isNameRef, LABEL_PREFIX, type EventEntityFn } from './positions.js';
import { pullPortal, type PullResult } from './pull.js';
import { resolveNames, type ReportFn, type ResolvedName } from './resolve-names.js';
import { readSnapshot, SNAPSHOT_FORMAT_VERSION, SnapshotError, snapshotText, type PortalSnapshot } from './snapshot.js';

/** Read a snapshot file into a model; throws SnapshotError when it cannot be used. */
export function loadPortalModel(file: string): PortalModel {
  return new PortalModel(readSnapshot(file), file);
}

export type { EntityRef, EventEntityFn, PortalSnapshot, PullResult, ReportFn, ResolvedName };
export {
  buildOverlay,
  checkRule,
  entityKey,
  findSnapshotFile,
  isNameRef,
  LABEL_PREFIX,
  OVERLAY_FILE,
  PortalModel,
  pullPortal,
  readSnapshot,
  resolveNames,
  SNAPSHOT_FILE,
  SNAPSHOT_FORMAT_VERSION,
  SnapshotError,
  snapshotText,
};
