/** Facts: the CRM entities the engine knows, the per-tick reader of the portal and the record cache the stages load into. */
import { ENTITIES, entityOfEvent, eventEntityTypeId, eventRecordId, INVOICE_ENTITY_TYPE_ID, isEntityName, taskBinding, timelineEntityType, workflowDocumentId } from './entities.js';
import { eventRecordRef, itemEventType, parseSnapshotEntity, runRecordKey, snapshotEntity, type RecordIdentity } from './record-keys.js';
import { loadFacts, loadRecords, RecordCache, type LoadTarget, type RecordRefLike } from './loader.js';
import { recordKey } from './by-id.js';
import { readKey, TickReader } from './reader.js';

export {
  ENTITIES,
  isEntityName,
  entityOfEvent,
  eventRecordId,
  eventEntityTypeId,
  INVOICE_ENTITY_TYPE_ID,
  eventRecordRef,
  itemEventType,
  snapshotEntity,
  parseSnapshotEntity,
  runRecordKey,
  timelineEntityType,
  taskBinding,
  workflowDocumentId,
  TickReader,
  readKey,
  recordKey,
  RecordCache,
  loadFacts,
  loadRecords,
};
export type { LoadTarget, RecordIdentity, RecordRefLike };
