/** Validation of a schedule trigger's cron expression. */
import { Cron } from 'croner';

/** Why a cron expression is invalid, or undefined. */
export function checkCron(expr: string, timezone: string): string | undefined {
  const trimmed = expr.trim();
  if (!trimmed.startsWith('@')) {
    const fields = trimmed.split(/\s+/).length;
    if (fields !== 5 && fields !== 6) return `cron expression "${expr}" has ${fields} field${fields === 1 ? '' : 's'}; it needs 5 (or 6 with seconds first)`;
  }
  try {
    const job = new Cron(trimmed, { paused: true, timezone });
    const next = job.nextRun();
    job.stop();
    if (!next) return `cron expression "${expr}" never fires`;
    return undefined;
  } catch (err) {
    return `invalid cron expression "${expr}": ${err instanceof Error ? err.message : String(err)}`;
  }
}
