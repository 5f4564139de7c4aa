/** The emulator's event hub: handler table, offline queues, online delivery. */
export { createEventHub, DEFAULTS } from './hub.js';
export type { EventHub, EventHubOptions, EmitMeta, HandlerTokens, PortalInfo } from './hub.js';
export { OfflineQueue, messageIdOf } from './offline-queue.js';
export type { OfflineRecord, OfflineEventItem, OfflineListItem, OfflineGetOptions, QueueScope } from './offline-queue.js';
export { BindingStore } from './bindings.js';
export type { Binding } from './bindings.js';
export type { DeliveryRecord } from './delivery.js';
export { encodeForm } from './form-encode.js';
