/** Facts: the CRM entities the engine knows, the per-tick reader of the portal and the record cache the stages load into. */
import { ENTITIES, entityOfEvent, eventEntityTypeId, eventRecordId, isEntityName, taskBinding, timelineEntityType, workflowDocumentId } from './entities.js';
import { loadFacts, loadRecords, RecordCache, type LoadTarget, type RecordRefLike } from './loader.js';
import { recordKey } from './by-id.js';
import { readKey, TickReader } from './reader.js';

export {
  ENTITIES,
  isEntityName,
  entityOfEvent,
  eventRecordId,
  eventEntityTypeId,
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
export type { LoadTarget, RecordRefLike };
