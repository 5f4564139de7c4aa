/** The Bitrix24 portal emulator: a stand-in portal over real HTTP for `npm start` and the tests. */
export { startEmulator, DEFAULTS, PLAN_LIMITS } from './emulator.js';
export type { Emulator, EmulatorOptions, EmulatorApp, LimitOptions } from './emulator.js';
export type { FaultOptions } from './faults.js';
export type { CallRecord, CallLog } from './calls.js';
export type { Store, Row } from './store.js';
export type { PortalData } from './portal-data.js';
export { EmulatorDataError, loadPortalData } from './portal-data.js';
export { parsePhpQuery, stringifyPhpQuery } from './php-query.js';
export type { Plan } from './state.js';
export { PortalError } from './types.js';
export type { CallContext, CallerAuth, EmittedEvent, MethodDef, MethodRegistry } from './types.js';
