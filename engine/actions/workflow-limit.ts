/**
 * Bitrix24 runs at most two workflows on one document (a CRM record) at once:
 * the bizproc option `limit_simultaneous_processes`, 2 on Bitrix24 cloud. A
 * third `bizproc.workflow.start` is refused by the bizproc runtime
 * (`CBPRuntime::CreateWorkflow`, message BPCGDOC_LIMIT_SIMULTANEOUS_PROCESSES)
 * and the REST method passes the message on with no error code
 * (bizproc-workflow-start.md: HTTP 400, code empty), in the portal's language.
 * This is the one place that reads that message: the refusal gets the
 * engine's own code, WORKFLOW_LIMIT, and the pipeline branches on the code.
 */

/** The runtime's message on an English and a Russian portal (lang/{en,ru}/classes/general/runtime.php); #NUM# is the limit. */
const LIMIT_MESSAGES = [/can be handled by (\d+) processes at most/i, /не более (\d+) процесс/i];

/** A refusal the engine names itself: its code and a message that says what happened and what to do. */
export interface NamedRefusal {
  code: 'WORKFLOW_LIMIT';
  message: string;
}

/** `DEAL_42` → deal 42, `DYNAMIC_147_5` → item 5 of smart process 147, `SMART_INVOICE_3` → invoice 3. */
function documentName(documentId: unknown): string {
  const doc = Array.isArray(documentId) ? String(documentId[2] ?? '') : '';
  let m = /^(LEAD|DEAL|CONTACT|COMPANY)_(\d+)$/.exec(doc);
  if (m) return `${m[1]!.toLowerCase()} ${m[2]!}`;
  m = /^DYNAMIC_(\d+)_(\d+)$/.exec(doc);
  if (m) return `item ${m[2]!} of smart process ${m[1]!}`;
  m = /^SMART_INVOICE_(\d+)$/.exec(doc);
  if (m) return `invoice ${m[1]!}`;
  return doc ? `document ${doc}` : 'the record';
}

/**
 * The engine's name for a portal refusal it recognizes, or undefined: a
 * `bizproc.workflow.start` refused because two workflows already run on the record.
 */
export function namedRefusal(method: string, params: Record<string, unknown>, error: { error: string; error_description: string }): NamedRefusal | undefined {
  if (method.toLowerCase() !== 'bizproc.workflow.start') return undefined;
  const limit = LIMIT_MESSAGES.map((re) => re.exec(error.error_description)).find((m) => m !== null);
  if (!limit) return undefined;
  const n = limit[1]!;
  const on = documentName(params.DOCUMENT_ID ?? params.document_id);
  return {
    code: 'WORKFLOW_LIMIT',
    message: `the portal already runs ${n} workflows on ${on}; Bitrix24 allows at most ${n === '2' ? 'two' : n} at once per record; the engine starts this one again later, or stop one of them (the record's Workflows tab) and retry (the portal said: ${error.error_description})`,
  };
}
