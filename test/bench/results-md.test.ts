/** bench/RESULTS.md as `npm run bench` writes it: the run's facts, every target with its verdict, a plain line per missed one. */
import { describe, expect, it } from 'vitest';
import { checkTarget, formatResultsMarkdown, parseRunArgs, percentile, reproduceCommand, resultsFile, type BenchResult, type RunArgs } from '../../bench/index.js';

const result: BenchResult = {
  name: 'daemon',
  title: 'Daemon path: 1,000 new-lead events',
  setup: 'One emulator process.',
  repetitions: 3,
  metrics: [
    { key: 'httpRequests', label: 'HTTP requests', unit: '' },
    { key: 'wallMs', label: 'wall', unit: 'ms' },
  ],
  variants: [
    { name: 'engine', label: 'rules run', samples: [], median: { httpRequests: 61, wallMs: 900.5 } },
    { name: 'naive', label: 'one call each | event by event', samples: [], median: { httpRequests: 4001, wallMs: 4200 } },
  ],
  ratios: [{ metric: 'wallMs', numerator: 'naive', denominator: 'engine', value: 4.66 }],
  computed: [{ variant: 'engine', label: 'engine at the real rate', value: 5.5, unit: 's', formula: 'max(0, r - 50) / 2' }],
  notes: ['counted by the proxy'],
  targets: [
    checkTarget('HTTP requests (engine)', 61, '', 50),
    checkTarget('naive / engine wall time', 4.66, '×', 2, true),
    checkTarget('engine CPU per event', 0.25, 'ms', 0.3, false, 'on the 5,000-event backlog'),
  ],
};

describe('bench/RESULTS.md', () => {
  const md = formatResultsMarkdown({
    command: 'npm run bench',
    environment: { date: '2026-12-05T00:00:00.000Z', node: 'v20.20.2', nproc: 2, cpu: 'AMD EPYC', os: 'linux 6.1', loadAverage: 15.6 },
    commit: { commit: 'abc123def456', uncommitted: 3 },
    loadAverageEnd: 14.2,
    totalSeconds: 512.4,
    results: [result],
  });

  it('names the command, date, commit, machine and load', () => {
    expect(md).toContain('- command: `npm run bench`');
    expect(md).toContain('- date: 2026-12-05T00:00:00.000Z');
    expect(md).toContain('- commit: abc123def456 with 3 uncommitted changed files (the tree as it was)');
    expect(md).toContain('- machine: nproc 2, AMD EPYC, linux 6.1, Node v20.20.2');
    expect(md).toContain('- load average (1 min): 15.6 at the start, 14.2 at the end');
  });

  it('holds every figure against its target, and says plainly which were missed', () => {
    expect(md).toContain('| daemon | HTTP requests (engine) | 61 | ≤ 50 | 1.22 | **missed** |');
    expect(md).toContain('| daemon | naive / engine wall time | 4.66× | ≥ 2× | 0.429 | met |');
    expect(md).toContain('- **Missed** (daemon): HTTP requests (engine) is 61, the target is ≤ 50.');
    expect(md).not.toContain('**Missed** (daemon): naive');
    expect(md).toContain('- Met (daemon): engine CPU per event: on the 5,000-event backlog');
  });

  it('carries each benchmark\'s table, ratios, computed figures and notes', () => {
    expect(md).toContain('| variant | HTTP requests | wall (ms) |');
    expect(md).toContain('| engine | 61 | 901 |');
    expect(md).toContain('- `naive`: one call each | event by event');
    expect(md).toContain('- naive / engine, wall: 4.66×');
    expect(md).toContain('- engine at the real rate: 5.50 s (max(0, r - 50) / 2)');
    expect(md).toContain('- counted by the proxy');
  });
});

describe('which runs write it', () => {
  const args = (argv: string[]) => parseRunArgs(argv) as RunArgs;
  it('a full run writes bench/RESULTS.md; --only or --quick only with --results', () => {
    expect(resultsFile(args([]))).toBe('bench/RESULTS.md');
    expect(resultsFile(args(['--quick']))).toBeUndefined();
    expect(resultsFile(args(['--only', 'daemon']))).toBeUndefined();
    expect(resultsFile(args(['--only', 'daemon', '--results', 'out.md']))).toBe('out.md');
    expect(reproduceCommand(args(['--quick', '--results', 'out.md']))).toBe('npm run bench -- --quick --results out.md');
  });
});

describe('percentiles and targets', () => {
  it('nearest-rank percentiles', () => {
    const xs = Array.from({ length: 60 }, (_, i) => 60 - i);
    expect(percentile(xs, 50)).toBe(30);
    expect(percentile(xs, 99)).toBe(60);
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });

  it('a target states its bound and its ratio: at most 1 meets it', () => {
    expect(checkTarget('x', 25, '', 50)).toMatchObject({ target: '≤ 50', ratio: 0.5, met: true });
    expect(checkTarget('y', 1.5, '×', 2, true)).toMatchObject({ target: '≥ 2×', met: false });
    expect(checkTarget('y', 1.5, '×', 2, true).ratio).toBeCloseTo(1.333, 3);
    expect(checkTarget('z', 0, '', 0)).toMatchObject({ met: true, ratio: 1 });
  });
});
