/**
 * Issue 15, done when: the editor completes stage IDs in a rule. The real
 * yaml-language-server (the server of VS Code's YAML extension) runs over
 * stdio with a rule file whose modeline points at the overlay `rules portal
 * pull` wrote; completion at `to:` of a STAGE_ID change offers the demo
 * portal's stage IDs with their pipelines and names.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { LanguageServer, type CompletionItem } from '../helpers/language-server.js';

let emulator: Emulator;
let repo: string;
let server: LanguageServer;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, limits: { burst: 10_000, drainPerSec: 10_000 } });
  repo = mkdtempSync(join(tmpdir(), 'portal-editor-'));
  const pull = await runCli(['portal', 'pull'], { env: { B24_WEBHOOK_URL: emulator.webhookUrl, B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_WEBHOOK_CODE: '' }, cwd: repo });
  expect(pull.code, pull.stderr).toBe(0);
  mkdirSync(join(repo, 'rules'));
  server = await LanguageServer.start(repo);
});
afterAll(async () => {
  server?.stop();
  await emulator.close();
  rmSync(repo, { recursive: true, force: true });
});

async function complete(name: string, text: string, line: number, character: number): Promise<CompletionItem[]> {
  return server.complete(join(repo, 'rules', name), text, line, character);
}

const doc = (i: CompletionItem): string => (typeof i.documentation === 'string' ? i.documentation : (i.documentation?.value ?? ''));

describe('editor completion from the overlay (yaml-language-server over stdio)', () => {
  it('completes the portal stage IDs, with pipeline and stage names, at a STAGE_ID change', async () => {
    const text = ['# yaml-language-server: $schema=../.rules/schema.json', 'id: won-followup', 'trigger:', '  event: ONCRMDEALUPDATE', '  changed:', '    STAGE_ID:', '      to: ', 'actions:', '  - notify: { user: 1, message: Won }', ''].join('\n');
    const items = await complete('won.yaml', text, 6, 10);
    const stages = items.filter((i) => /^(C\d+:)?[A-Z_]+$/.test(i.label)).map((i) => `${i.label} = ${doc(i)}`);
    expect(stages).toEqual([
      'NEW = Sales / New',
      'PREPARATION = Sales / Prepare documents',
      'PREPAYMENT_INVOICE = Sales / Prepayment invoice',
      'EXECUTING = Sales / In progress',
      'FINAL_INVOICE = Sales / Final invoice',
      'WON = Sales / Deal won',
      'LOSE = Sales / Deal lost',
      'APOLOGY = Sales / Analyze failure',
      'C1:NEW = Renewals / Renewal due',
      'C1:NEGOTIATION = Renewals / Negotiation',
      'C1:WON = Renewals / Renewed',
      'C1:LOSE = Renewals / Churned',
      'C2:NEW = Service / Kick-off',
      'C2:EXECUTING = Service / In delivery',
      'C2:WON = Service / Delivered',
      'C2:LOSE = Service / Cancelled',
    ]);
  });

  it('completes field codes with their labels under an update’s fields:', async () => {
    const text = ['# yaml-language-server: $schema=../.rules/schema.json', 'id: set-region', 'trigger: { event: ONCRMDEALUPDATE }', 'actions:', '  - update:', '      entity: deal', '      id: "{{ deal.ID }}"', '      fields:', '        ', ''].join('\n');
    const items = await complete('fields.yaml', text, 8, 8);
    const region = items.find((i) => i.label === 'UF_CRM_REGION');
    expect(region && doc(region)).toContain('Deals: Region (string)');
    expect(items.map((i) => i.label)).toContain('STAGE_ID');
  });
});
