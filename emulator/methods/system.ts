/** System helpers, scope `basic` (API-FACTS §11): app.info, feature.get, server.time, scope, methods, method.get. */
import { formatIso } from '../clock.js';
import { catalog } from '../catalog.js';
import type { EmulatorState } from '../state.js';
import { PortalError, type MethodRegistry } from '../types.js';
import { param } from './params.js';

/** Features `feature.get` answers `Y` for unless the portal's settings say otherwise (api-reference/common/system/feature-get.md). */
const FEATURES: Readonly<Record<string, boolean>> = { rest_offline_extended: true, rest_auth_connector: true };

export function registerSystem(registry: MethodRegistry, state: EmulatorState): void {
  const available = (name: string, scopes: string[]): boolean => {
    const def = registry.get(name);
    return def !== undefined && (def.scope === 'basic' || def.scope.split(',').some((s) => scopes.includes(s.trim())));
  };

  registry.register('batch', {
    scope: 'basic',
    cost: 0,
    // The dispatcher runs `batch` itself; reaching this handler means a nested batch.
    handler: () => {
      throw new PortalError(405, 'ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage');
    },
  });

  registry.register('app.info', {
    scope: 'basic',
    handler: () => {
      const enterprise = state.portal.plan === 'enterprise';
      return {
        result: {
          ID: 1,
          CODE: state.auth.app.clientId,
          VERSION: 1,
          STATUS: 'L',
          INSTALLED: true,
          PAYMENT_EXPIRED: 'N',
          DAYS: null,
          LANGUAGE_ID: 'en',
          LICENSE: enterprise ? 'en_ent250' : 'en_basic',
          LICENSE_TYPE: enterprise ? 'ent250' : 'basic',
          LICENSE_FAMILY: enterprise ? 'ent' : 'basic',
        },
      };
    },
  });

  registry.register('feature.get', {
    scope: 'basic',
    handler: (params) => {
      const code = param(params, 'CODE');
      // feature-get.md, "Обработка ошибок": 400 CODE_EMPTY "CODE can't be empty".
      if (typeof code !== 'string' || code === '') throw new PortalError(400, 'CODE_EMPTY', "CODE can't be empty");
      const features = state.portal.features ?? FEATURES;
      return { result: { value: features[code.toLowerCase()] === true ? 'Y' : 'N' } };
    },
  });

  registry.register('server.time', { scope: 'basic', handler: (_p, ctx) => ({ result: formatIso(ctx.now(), state.portal.offsetMinutes) }) });

  registry.register('scope', {
    scope: 'basic',
    handler: (params, ctx) => {
      const full = param(params, 'full');
      if (full === true || full === 'true' || full === '1') {
        return { result: [...new Set([...catalog().values()].flatMap((m) => m.scope.split(',')))].sort() };
      }
      return { result: ctx.auth.scopes };
    },
  });

  registry.register('methods', {
    scope: 'basic',
    handler: (params, ctx) => {
      const scope = param(params, 'scope');
      const full = param(params, 'full');
      let names = registry.names();
      if (typeof scope === 'string' && scope !== '') names = names.filter((n) => (registry.get(n)?.scope ?? '').split(',').includes(scope));
      else if (!(full === true || full === 'true' || full === '1')) names = names.filter((n) => available(n, ctx.auth.scopes));
      return { result: names };
    },
  });

  registry.register('method.get', {
    scope: 'basic',
    handler: (params, ctx) => {
      const name = String(param(params, 'name') ?? '').toLowerCase();
      return { result: { isExisting: registry.has(name), isAvailable: available(name, ctx.auth.scopes) } };
    },
  });
}
