/** `rules portals`: the portals of a deployment on PostgreSQL (the control plane): list, add, enable, disable, set, remove. */
import { readEnvironment } from '../../engine/config.js';
import { UsageError } from '../../engine/errors.js';
import { openControlPlane, PortalRegistry, REVOKED_WORKER, type Portal, type PortalListing } from '../../engine/portals/index.js';
import { redact, redactValue } from '../../engine/redact.js';
import { dropPortalState, isPostgresUrl, portalSchema } from '../../engine/store/index.js';
import { closest } from '../../engine/suggest.js';
import { FORMAT_OPTIONS, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules portals list
       rules portals add --webhook URL [--member-id ID] [--plan standard|enterprise] [--rule-set NAME] [--disabled]
       rules portals add --oauth --member-id ID [--domain DOMAIN] [--plan P] [--rule-set NAME] [--disabled]
       rules portals enable|disable ID
       rules portals set ID [--plan standard|enterprise] [--rule-set NAME | --no-rule-set]
       rules portals remove ID [--drop-state]
       (all: --state postgres://USER@HOST/DB, default B24_RULES_DATABASE_URL;
       --format text|json, --json being the same as --format json)

The portals the workers of 'rules run --state postgres://...' serve, in the
control plane (schema b24rules). 'list' shows each portal's member_id,
domain, auth mode, plan, whether it is enabled, its rule set and who holds its
lease until when, and when another worker may take it (the expiry plus the
holder's --lease-grace-ms); never a token, and a webhook URL with its code masked.

'add --webhook URL' adds a webhook portal (integrators); its key is
'webhook:' + a hash of its address and user unless --member-id gives the
portal's member_id. Without --webhook and --oauth, B24_WEBHOOK_URL is used
(a URL on the command line shows in 'ps'). 'add --oauth' adds an OAuth portal
with the pair in B24_REFRESH_TOKEN (and B24_ACCESS_TOKEN), never on the
command line; --domain defaults to B24_DOMAIN. An app installed from the
Marketplace adds its portals itself (ONAPPINSTALL at the workers' /b24/app).

'disable' stops a portal: the worker serving it stops at its next lease
renewal; 'enable' lets a worker take it again. --rule-set NAME adds the rules
in <rules dir>/portals/NAME/ to the shared ones for that portal. 'set' and
'disable' revoke the portal's lease: its worker stops at its next renewal and
a worker takes it afresh (with the change) once the lease expires. 'remove'
deletes the portal; its state stays in its schema unless --drop-state
(disable the portal first and let its lease expire: an engine still serving
it fails at its next statement).
`;

const VERBS = ['list', 'add', 'enable', 'disable', 'set', 'remove'];

function when(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// The free times are the lease's expiry plus its holder's grace (--lease-grace-ms), by the database's clock: no worker takes it sooner.
function leaseText(p: PortalListing): string {
  if (!p.lease) return '-';
  const { workerId, freeFrom, free } = p.lease;
  if (workerId === REVOKED_WORKER) return free ? '(revoked, free now)' : `(revoked, free at ${when(freeFrom)})`;
  if (!p.lease.live) return free ? `(expired: ${workerId}, free now)` : `(expired: ${workerId}, free at ${when(freeFrom)})`;
  return `${workerId} until ${when(p.lease.expiresAt)}`;
}

/** The sentence under the table for a lease someone holds: until when, and when another worker may take it if it is not renewed. */
function heldText(p: PortalListing): string | null {
  if (!p.lease || !p.lease.live || p.lease.workerId === REVOKED_WORKER) return null;
  const { workerId, expiresAt, freeFrom, graceMs } = p.lease;
  return `  ${p.memberId}: held by ${workerId} until ${when(expiresAt)}, free from ${when(freeFrom)} if not renewed (lease grace ${graceMs / 1000} s)`;
}

/** The list as a text table, then a line per held lease saying when it becomes free. */
export function formatPortals(portals: readonly PortalListing[]): string {
  if (portals.length === 0) return 'No portals. Add one with: rules portals add --webhook URL (or install the app on a portal)\n';
  const header = ['MEMBER_ID', 'DOMAIN', 'AUTH', 'PLAN', 'ENABLED', 'RULE SET', 'LEASE'];
  const rows = portals.map((p) => [p.memberId, p.domain, p.authMode, p.plan, p.enabled ? 'yes' : 'no', p.ruleSet ?? '-', leaseText(p)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  const held = portals.flatMap((p) => heldText(p) ?? []);
  const leases = held.length > 0 ? ['', 'Leases (another worker takes a portal only after its lease expired and the grace passed):', ...held] : [];
  return `${[line(header), ...rows.map(line), ...leases].join('\n')}\n`;
}

function describe(p: Portal): string {
  return `${p.memberId} (${p.domain}, ${p.authMode}, ${p.plan}, ${p.enabled ? 'enabled' : 'disabled'}${p.ruleSet ? `, rule set ${p.ruleSet}` : ''})`;
}

const command: Command = {
  summary: 'list, add, enable, disable or remove the portals of a PostgreSQL deployment',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      state: { type: 'string' },
      webhook: { type: 'string' },
      oauth: { type: 'boolean' },
      'member-id': { type: 'string' },
      domain: { type: 'string' },
      plan: { type: 'string' },
      'rule-set': { type: 'string' },
      'no-rule-set': { type: 'boolean' },
      disabled: { type: 'boolean' },
      'drop-state': { type: 'boolean' },
      ...FORMAT_OPTIONS,
    });
    const format = outputFormat(values, ['text', 'json'], 'text');
    const [verb, id, ...extra] = positionals;
    if (verb === undefined) throw new UsageError('portals needs a subcommand: list, add, enable, disable, set or remove');
    if (!VERBS.includes(verb)) {
      const guess = closest(verb, VERBS);
      throw new UsageError(`unknown portals subcommand '${verb}'${guess ? `; did you mean '${guess}'?` : '.'} Use ${VERBS.join(', ')}`);
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const env = readEnvironment();
    const state = values.state ?? env.B24_RULES_DATABASE_URL?.trim();
    if (!state) throw new UsageError('rules portals needs the control plane: --state postgres://USER@HOST/DB (or B24_RULES_DATABASE_URL)');
    if (!isPostgresUrl(state)) throw new UsageError(`--state must be a postgres:// URL for rules portals (the portals live in PostgreSQL); got '${redact(state)}'`);
    if (values['rule-set'] !== undefined && values['no-rule-set']) throw new UsageError('--rule-set and --no-rule-set cannot go together');
    const plan = values.plan as Portal['plan'] | undefined;
    if (plan !== undefined && plan !== 'standard' && plan !== 'enterprise') throw new UsageError(`--plan must be standard or enterprise; got '${plan}'`);
    const needsId = verb !== 'list' && verb !== 'add';
    if (needsId && id === undefined) throw new UsageError(`portals ${verb} needs a portal's member_id (see rules portals list)`);
    if (!needsId && id !== undefined) throw new UsageError(`unexpected argument '${id}'`);
    if (values['drop-state'] && verb !== 'remove') throw new UsageError('--drop-state goes with remove');

    const out = (text: string, json: unknown) => process.stdout.write(format === 'json' ? `${JSON.stringify(redactValue(json), null, 2)}\n` : text);
    const cp = await openControlPlane(state);
    try {
      const registry = new PortalRegistry(cp.pool);
      const memberId = id as string;
      switch (verb) {
        case 'list': {
          const portals = await registry.list();
          out(formatPortals(portals), portals);
          return EXIT.OK;
        }
        case 'add': {
          const common = { ...(plan ? { plan } : {}), ...(values['rule-set'] ? { ruleSet: values['rule-set'] } : {}), enabled: !values.disabled };
          let portal: Portal;
          if (values.oauth) {
            if (values.webhook !== undefined) throw new UsageError('--webhook and --oauth cannot go together');
            const refreshToken = env.B24_REFRESH_TOKEN?.trim();
            const domain = values.domain ?? env.B24_DOMAIN?.trim();
            if (!values['member-id']) throw new UsageError("portals add --oauth needs --member-id (the portal's member_id)");
            if (!domain) throw new UsageError('portals add --oauth needs --domain (or B24_DOMAIN)');
            if (!refreshToken) throw new UsageError('portals add --oauth reads the refresh token from B24_REFRESH_TOKEN (environment or .env); it is not set');
            portal = await registry.addOAuth({ memberId: values['member-id'], domain, refreshToken, ...(env.B24_ACCESS_TOKEN?.trim() ? { accessToken: env.B24_ACCESS_TOKEN.trim() } : {}), ...common });
          } else {
            const webhookUrl = values.webhook ?? env.B24_WEBHOOK_URL?.trim();
            if (!webhookUrl) throw new UsageError('portals add needs --webhook URL (or B24_WEBHOOK_URL), or --oauth');
            if (values.domain !== undefined) throw new UsageError('--domain goes with --oauth; a webhook portal is where its URL points');
            portal = await registry.addWebhook({ webhookUrl, ...(values['member-id'] ? { memberId: values['member-id'] } : {}), ...common });
          }
          out(`Added portal ${describe(portal)}.\n`, portal);
          return EXIT.OK;
        }
        case 'enable':
        case 'disable': {
          const portal = await registry.setEnabled(memberId, verb === 'enable');
          const note = verb === 'disable' ? '; the worker serving it stops at its next lease renewal' : '';
          out(`${verb === 'enable' ? 'Enabled' : 'Disabled'} portal ${describe(portal)}${note}.\n`, portal);
          return EXIT.OK;
        }
        case 'set': {
          if (plan === undefined && values['rule-set'] === undefined && !values['no-rule-set']) throw new UsageError('portals set needs --plan, --rule-set or --no-rule-set');
          const portal = await registry.update(memberId, { ...(plan ? { plan } : {}), ...(values['rule-set'] !== undefined ? { ruleSet: values['rule-set'] } : values['no-rule-set'] ? { ruleSet: null } : {}) });
          out(`Changed portal ${describe(portal)}; its worker restarts it with the change within the lease TTL.\n`, portal);
          return EXIT.OK;
        }
        default: {
          await registry.remove(memberId);
          if (!values['drop-state']) {
            out(`Removed portal ${memberId}; its worker stops at its next lease renewal, and its state stays in PostgreSQL (--drop-state drops it).\n`, { removed: memberId, stateDropped: false });
            return EXIT.OK;
          }
          const dropped = await dropPortalState(cp.pool, memberId);
          out(`Removed portal ${memberId} and ${dropped ? `dropped its state (schema ${portalSchema(memberId)})` : 'found no state to drop'}.\n`, { removed: memberId, stateDropped: dropped });
          return EXIT.OK;
        }
      }
    } finally {
      await cp.close();
    }
  },
};

export default command;
