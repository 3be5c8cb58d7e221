// Realistic swarm `result` records for the spread benchmark (scripts/bench-spread.mjs): a discarded
// one-constant change, the shape and size of what `swarm join` shares after most runs.
import { createHash } from 'node:crypto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { checkRecord, signRecord } from '../../dist/p2p/index.js';

export const PROGRAM = '5b7ead0000000000';
const sha = (s) => createHash('sha256').update(s).digest('hex');
const HARDWARE = { device: 'cuda', name: 'NVIDIA H100 80GB HBM3', count: 1, memoryGb: 79.6, torch: '2.11.0', cuda: '12.8', python: '3.12.3' };
const T0 = Date.parse('2026-12-01T20:00:00.000Z');

/** Experiment id n in the shape newId() gives: base-36 milliseconds, `-`, 8 hex. */
const expId = (n, salt) => `${(T0 + n).toString(36).padStart(9, "0")}-${((salt * 0x9e3779b1 + n) >>> 0).toString(16).padStart(8, '0')}`;

/** Result n of origin number `salt`: a discarded learning-rate change with its inline diff. */
export function resultBody(n, salt = 0) {
  const lr = (0.02 + (n % 97) / 5000).toFixed(4);
  const diff = [
    '--- a/train.py', '+++ b/train.py', '@@ -41,7 +41,7 @@ WINDOW_PATTERN = "SSSL"',
    ' ASPECT_RATIO = 64', ' HEAD_DIM = 128', ' EMBEDDING_LR = 0.6', '-MATRIX_LR = 0.04', `+MATRIX_LR = ${lr}`,
    ' SCALAR_LR = 0.5', ' WEIGHT_DECAY = 0.2', ' ADAM_BETAS = (0.8, 0.95)', '',
  ].join('\n');
  const started = T0 + (salt * 1000 + n) * 330_000;
  return {
    type: 'result', experiment: expId(n, salt), parentHash: sha(`parent ${salt}`), hash: sha(`candidate ${salt} ${n}`),
    diffHash: sha(diff), diff, fingerprint: sha(`fp ${salt} ${n}`), status: 'discard',
    hypothesis: `lower MATRIX_LR to ${lr}: the Muon step may be too large at batch 2^19 once warmdown starts`,
    proposer: 'claude:claude-sonnet-4-5', outcome: 'ok', reason: 'not-better',
    metrics: {
      val_bpb: 0.998 + (n % 13) / 10_000, training_seconds: 300.1, total_seconds: 325.9, peak_vram_mb: 45060.2,
      mfu_percent: 39.8, total_tokens_M: 499.6, num_steps: 953, num_params_M: 50.3, depth: 8,
    },
    hardware: HARDWARE, dataset: 'climbmix', budgetSeconds: 300,
    startedAt: new Date(started).toISOString(), endedAt: new Date(started + 325_900).toISOString(), lineage: [],
  };
}

/**
 * `count` signed records from `origins` fresh Ed25519 identities (seq 1.. per origin), each checked
 * exactly as a receiving node checks it, so a store seeded with them holds only what peers accept.
 */
export async function signedRecords(count, origins) {
  const keys = await Promise.all(Array.from({ length: origins }, () => generateKeyPair('Ed25519')));
  const out = [];
  for (let i = 0; i < count; i++) {
    const o = i % origins;
    const seq = Math.floor(i / origins) + 1;
    const body = resultBody(seq, o + 1);
    const draft = { ...body, v: 1, program: PROGRAM, peer: peerIdFromPrivateKey(keys[o]).toString(), seq, time: body.endedAt };
    const record = await signRecord(draft, keys[o]);
    const v = await checkRecord(JSON.parse(JSON.stringify(record)), PROGRAM);
    if (!v.ok) throw new Error(`generated record refused (${v.reason}): ${v.error}`);
    out.push(record);
  }
  return out;
}
