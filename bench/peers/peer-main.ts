/**
 * A peer's process: `node dist/bench/peers/peer-main.js` with its PeerConfig
 * as JSON in BENCH_PEER. It runs the peer, then prints one PeerResult line.
 * Its own process, so its CPU is its own (not the proxy's, which runs in the
 * bench process, nor the emulator's).
 */
import { runNaive } from './naive.js';
import { runSdkBatch } from './sdk-batch.js';
import type { PeerConfig, PeerResult } from './types.js';

const config = JSON.parse(process.env.BENCH_PEER ?? '{}') as PeerConfig;
if (config.kind === 'sdk') await import('@bitrix24/b24jssdk');
const startedAt = Date.now();
const cpu0 = process.cpuUsage();
try {
  const processed = config.kind === 'sdk' ? await runSdkBatch(config) : await runNaive(config);
  const cpu = process.cpuUsage(cpu0);
  const result: PeerResult = { startedAt, endedAt: Date.now(), cpuMs: (cpu.user + cpu.system) / 1000, processed };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (err) {
  process.stderr.write(`peer ${config.kind} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
