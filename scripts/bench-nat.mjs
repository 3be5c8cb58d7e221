#!/usr/bin/env node
// Across NATs: time to the first record through a relay and after the upgrade to a direct
// connection, on the small internet test/p2p/nat.test.ts builds with network namespaces (root).
// Usage: node scripts/bench-nat.mjs [runs=3]   (needs `npm run build` first)
// Prints each run's figures and the median of each, in milliseconds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 3);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: node scripts/bench-nat.mjs [runs]');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'bench-nat-'));
const all = [];
try {
  for (let i = 0; i < runs; i++) {
    const file = join(dir, `run${i}.json`);
    const r = spawnSync('npx', ['vitest', 'run', 'test/p2p/nat.test.ts'], {
      env: { ...process.env, SWARM_NAT_FIGURES: file }, encoding: 'utf8',
    });
    let figures;
    try {
      figures = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      console.error(`run ${i + 1}: no figures (the test failed or skipped):\n${(r.stdout + r.stderr).slice(-3000)}`);
      process.exit(1);
    }
    all.push(figures);
    console.log(`run ${i + 1}: ${JSON.stringify(figures)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const labels = {
  relayedConnectMs: 'A and B start → connected through the relay (reservation + DHT discovery)',
  relayedRecordMs: 'publish on A → record held by B, through the relay',
  directConnectMs: 'C starts → direct connection A–C (relay circuit + DCUtR upgrade)',
  directRecordMs: 'publish on C → record held by A, direct',
  reconnectMs: 'relay back → B holds what A published while the relay was down',
};
console.log(`\nmedian of ${runs} run(s), ms:`);
for (const [key, label] of Object.entries(labels)) console.log(`${String(median(all.map((f) => f[key]))).padStart(7)}  ${label}`);
