/** Run a peer in its own process (dist/bench/peers/peer-main.js) and read its result line. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { childEnv } from '../drill/index.js';
import type { PeerConfig, PeerResult } from './types.js';

const PEER_MAIN = join(PACKAGE_ROOT, 'dist', 'bench', 'peers', 'peer-main.js');

/** Run the peer to its end; rejects with its stderr when it fails. */
export function runPeerProcess(config: PeerConfig): Promise<PeerResult> {
  if (!existsSync(PEER_MAIN)) throw new Error(`${PEER_MAIN} is missing: run 'npm run build' first ('npm run bench' does)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PEER_MAIN], { env: childEnv({ BENCH_PEER: JSON.stringify(config) }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`peer ${config.kind} exited ${String(code)}: ${err || out}`));
      resolve(JSON.parse(line) as PeerResult);
    });
  });
}
