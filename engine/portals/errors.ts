/** Errors of the control plane (engine/portals/): the portals, their leases and the install endpoint. */
import { B24RulesError, type B24RulesErrorOptions } from '../errors.js';

/** Codes the control plane raises. */
export type PortalsErrorCode = 'PORTAL_NOT_FOUND' | 'PORTAL_EXISTS' | 'PORTAL_INVALID' | 'CONTROL_PLANE_UNAVAILABLE' | 'CONTROL_PLANE_TOO_NEW' | 'WORKER_ID_IN_USE';

/** A control-plane failure: an unknown or duplicate portal, bad portal data, or PostgreSQL unreachable or too new. */
export class PortalsError extends B24RulesError {
  declare readonly code: PortalsErrorCode;

  constructor(code: PortalsErrorCode, message: string, options: B24RulesErrorOptions = {}) {
    super(code, message, options);
  }
}

/** No portal with that member_id in `b24rules.portals`. */
export class PortalNotFoundError extends PortalsError {
  readonly memberId: string;

  constructor(memberId: string) {
    super('PORTAL_NOT_FOUND', `no portal '${memberId}'; list them with: rules portals list`);
    this.memberId = memberId;
  }
}
