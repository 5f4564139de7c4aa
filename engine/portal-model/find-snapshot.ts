/** Where a rule folder's portal snapshot is: `.rules/portal.json` in the folder or the nearest folder above it. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The snapshot's place, relative to the rules repository's root. */
export const SNAPSHOT_FILE = join('.rules', 'portal.json');
/** The generated schema overlay, beside it. */
export const OVERLAY_FILE = join('.rules', 'schema.json');

/** The snapshot file of the rules in `dir` (searched upwards), or undefined. */
export function findSnapshotFile(dir: string): string | undefined {
  let d = resolve(dir);
  for (;;) {
    const f = join(d, SNAPSHOT_FILE);
    if (existsSync(f)) return f;
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}
