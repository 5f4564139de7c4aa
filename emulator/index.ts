/** The Bitrix24 portal emulator: a stand-in portal over real HTTP for `npm start` and the tests. */
import { DEFAULTS, PLAN_LIMITS, startEmulator } from './emulator.js';
import { fleetMemberId, startEmulatorFleet } from './fleet.js';
import { UNKNOWN_WORKER, workerOf } from './fleet-record.js';
import { stringifyPhpQuery, parsePhpQuery } from './php-query.js';
import { EmulatorDataError, loadPortalData } from './portal-data.js';
import { PortalError } from './types.js';

export type { Emulator, EmulatorOptions, EmulatorApp, LimitOptions } from './emulator.js';
export type { FaultOptions } from './faults.js';
export type { EmulatorFleet, FleetOptions, FleetPortal, InstallOptions, UninstallOptions } from './fleet.js';
export type { Hold, Overlap, RequestSpan, WorkerRun } from './fleet-record.js';
export type { HoldMatch } from './work-gate.js';
export type { HandlerAnswer } from './app-events.js';
export type { TokenRequest } from './token-server.js';
export { mulberry32 } from './faults.js';
export type { CallRecord, CallLog } from './calls.js';
export type { Store, Row } from './store.js';
export type { PortalData } from './portal-data.js';
export type { Plan } from './state.js';
export type { CallContext, CallerAuth, EmittedEvent, MethodDef, MethodRegistry } from './types.js';

export { startEmulatorFleet, fleetMemberId, workerOf, UNKNOWN_WORKER };
export { startEmulator, DEFAULTS, PLAN_LIMITS, EmulatorDataError, loadPortalData, parsePhpQuery, stringifyPhpQuery, PortalError };
