/** A daemon run on one rule file reloads when the calendars.yaml of its folder changes (the calendars its within: names). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchRules } from '../../engine/daemon/rule-watcher.js';
import { memoryLogger } from '../sources/helpers.js';
import { tempDir } from './harness.js';

describe('the rule watcher', () => {
  it('watching one rule file, calls back when its folder calendars.yaml changes, not for another file', async () => {
    const dir = tempDir('b24-watch-cal-');
    const rule = join(dir, 'lead.yaml');
    writeFileSync(rule, 'id: x\ntrigger: { manual: {} }\nactions:\n  - stop: {}\n');
    writeFileSync(join(dir, 'calendars.yaml'), 'calendars: {}\n');
    let resolveChange: (files: string[]) => void = () => undefined;
    const changed = new Promise<string[]>((r) => (resolveChange = r));
    const stop = watchRules({ paths: [rule], onChange: (files) => resolveChange(files), logger: memoryLogger().logger, debounceMs: 10 });
    try {
      writeFileSync(join(dir, 'other.yaml'), 'id: y\n');
      writeFileSync(join(dir, 'calendars.yaml'), 'calendars:\n  office: { time_zone: UTC, hours: { Mon-Fri: "09:00-17:00" } }\n');
      const files = await changed;
      expect(files).toContain(join(dir, 'calendars.yaml'));
      expect(files).not.toContain(join(dir, 'other.yaml'));
    } finally {
      stop();
    }
  });
});
