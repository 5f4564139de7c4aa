/** The offline-queue invariant: when the drill ends, the portal holds no event for the daemon, reserved or not. */
import { invariant, type Invariant } from './invariant.js';

/** Check what is left in the portal's offline queue (the emulator's records). */
export function checkQueue(records: ReadonlyArray<{ eventName: string; processId: string; error: number; eventData: unknown }>): Invariant {
  const reserved = records.filter((r) => r.processId !== '');
  const marked = records.filter((r) => r.error !== 0);
  const problems = records.slice(0, 20).map((r) => {
    const id = (r.eventData as { FIELDS?: { ID?: unknown } } | null)?.FIELDS?.ID;
    return `${r.eventName} for record ${String(id ?? '?')}: ${r.processId ? `reserved by ${r.processId}` : 'never taken'}${r.error ? ', marked as an error' : ''}`;
  });
  if (records.length > problems.length) problems.push(`... and ${records.length - problems.length} more`);
  return invariant('offline-queue', `${records.length} events left in the portal's offline queue (${reserved.length} reserved, ${marked.length} marked as errors)`, problems);
}
