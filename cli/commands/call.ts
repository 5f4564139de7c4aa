/**
 * `rules call METHOD --params JSON`: one REST call, the response envelope as
 * JSON on stdout (parity with the skill pack's bitrix24_client.py). An API
 * error prints its Bitrix24 code and description on stderr and exits 1; bad
 * usage exits 2. `rules call batch --params '{"halt":0,"cmd":{...}}'` passes
 * the command strings through as the portal takes them.
 */
import { readFileSync } from 'node:fs';
import { B24RulesError, UsageError } from '../../engine/errors.js';
import { createLogger } from '../../engine/logger.js';
import { redact } from '../../engine/redact.js';
import { loadConfig } from '../../engine/config.js';
import { B24ApiError, createClient, methodApi, type Params } from '../../engine/client/index.js';
import { logLevel, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules call METHOD [--params JSON | --params-file FILE] [--read-only] [--api v1|v3 [--idempotency-key KEY]] [--log-level LEVEL]

Call one Bitrix24 REST method and print the response envelope as JSON.

  METHOD              e.g. crm.lead.get, crm.deal.list, batch
  --params JSON       the method's params as a JSON object (default {})
  --params-file FILE  read the params from a JSON file ('-' for stdin)
  --read-only         refuse methods that write (as dry-run does)
  --api v1|v3         REST 1 (/rest/) or REST 3.0 (/rest/api/); default: v3 for a method
                      only REST 3.0 has (the catalog), else v1. A REST 1 filter object is
                      sent in REST 3.0's array form
  --idempotency-key K with v3: the Idempotency-Key header (a repeat with the same key and
                      params is answered from the first success, not run again)
  --log-level LEVEL   fatal|error|warn|info|debug|trace|silent (logs go to stderr)

Connection from the environment or .env: B24_WEBHOOK_URL, or B24_DOMAIN with
B24_WEBHOOK_USER_ID and B24_WEBHOOK_CODE, or B24_AUTH_MODE=oauth (see .env.example).

Examples:
  rules call crm.lead.get --params '{"id": 1}'
  rules call batch --params '{"halt":0,"cmd":{"a":"crm.lead.get?id=1","b":"crm.deal.list?filter[>ID]=0"}}'
  rules call tasks.task.list --api v3 --params '{"filter":[["id",">",10]],"select":["title"]}'

Exit codes: 0 success, 1 API or connection error, 2 bad usage.
`;

function readParams(values: { params?: string; 'params-file'?: string }): Params {
  if (values.params !== undefined && values['params-file'] !== undefined) throw new UsageError('use either --params or --params-file, not both');
  let text = values.params;
  let where = '--params';
  if (values['params-file'] !== undefined) {
    where = `--params-file ${values['params-file']}`;
    try {
      text = readFileSync(values['params-file'] === '-' ? 0 : values['params-file'], 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (text === undefined || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where} is not valid JSON (${err instanceof Error ? err.message : String(err)}); pass an object like '{"id": 1}'`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${where} must be a JSON object like '{"id": 1}'`);
  return value as Params;
}

const command: Command = {
  summary: 'call one REST method and print the response envelope',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      params: { type: 'string' },
      'params-file': { type: 'string' },
      'read-only': { type: 'boolean' },
      api: { type: 'string' },
      'idempotency-key': { type: 'string' },
    });
    if (positionals.length !== 1) {
      throw new UsageError(positionals.length === 0 ? "missing METHOD; e.g. 'rules call crm.lead.get --params '{\"id\":1}''" : `expected one METHOD; got ${positionals.length}: ${positionals.join(' ')}`);
    }
    const method = positionals[0] as string;
    if (!/^[A-Za-z][\w.]*$/.test(method)) throw new UsageError(`'${method}' is not a REST method name (e.g. crm.lead.get)`);
    const params = readParams(values);
    const api = values.api ?? (methodApi(method) === 'v3' ? 'v3' : 'v1');
    if (api !== 'v1' && api !== 'v3') throw new UsageError(`--api must be v1 or v3; got '${api}'`);
    if (values['idempotency-key'] !== undefined && api !== 'v3') throw new UsageError('--idempotency-key goes with --api v3 (REST 1 ignores the header)');
    if (api === 'v3' && method.toLowerCase() === 'batch') throw new UsageError('a REST 3.0 batch is a JSON array of calls; call the methods one by one with --api v3');
    const logger = createLogger({ level: logLevel(values['log-level']), toStderr: true, name: 'rules-call' });
    const config = loadConfig();
    // An interactive call should fail within seconds, not ride out a long outage.
    const client = createClient(config, { logger, readOnly: values['read-only'] === true, retries: 3 });
    try {
      const envelope =
        api === 'v3' ? await client.callV3(method, params, values['idempotency-key'] !== undefined ? { idempotencyKey: values['idempotency-key'] } : {}) : await client.call(method, params);
      process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
      return EXIT.OK;
    } catch (err) {
      if (err instanceof B24ApiError) {
        process.stderr.write(redact(`rules call: ${err.error || err.code}: ${err.errorDescription || err.message} (HTTP ${err.status}, ${err.code})\n`));
        return EXIT.ERROR;
      }
      if (err instanceof B24RulesError) {
        process.stderr.write(redact(`rules call: ${err.code}: ${err.message}\n`));
        return EXIT.ERROR;
      }
      throw err;
    } finally {
      await client.close();
    }
  },
};

export default command;
