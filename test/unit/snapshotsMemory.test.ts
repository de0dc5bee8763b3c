import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileDigest } from '../../src/core/workspace/digest';
import { tmpWorkspace } from './helpers';
import { assertFsck } from './snapshotHelpers';

const MB = 1024 * 1024;
const LIMIT_MB = 200;

/** Runs one store operation in a fresh node process and reports its peak RSS (maxRSS). */
function inChild(root: string, op: 'snapshot' | 'restore', arg: string): { result: { id?: string; written?: string[] }; peakMb: number } {
  const storeModule = path.join(__dirname, '..', '..', 'src', 'core', 'snapshots', 'index.js');
  const layoutModule = path.join(__dirname, '..', '..', 'src', 'core', 'workspace', 'layout.js');
  const script = `
    const { SnapshotStore } = require(${JSON.stringify(storeModule)});
    const { MlopsLayout } = require(${JSON.stringify(layoutModule)});
    (async () => {
      const store = await SnapshotStore.open(new MlopsLayout(${JSON.stringify(root)}));
      const result = ${op === 'snapshot' ? `await store.snapshot([${JSON.stringify(arg)}], { message: 'big' })` : `await store.restore(process.argv[1], { to: 'restored' })`};
      console.log(JSON.stringify({ result, maxRss: process.resourceUsage().maxRSS * 1024 }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', script, arg], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  return { result: out.result, peakMb: out.maxRss / MB };
}

describe('snapshot store: memory', () => {
  it(`snapshots and restores a 300 MB file in at most ${LIMIT_MB} MB of memory`, async () => {
    const layout = tmpWorkspace();
    const file = path.join(layout.root, 'models', 'weights.bin');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Random-ish, incompressible and quick to make: one random MiB, varied per MiB.
    const block = crypto.randomBytes(MB);
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < 300; i++) {
      block.writeUInt32LE(i, 0);
      fs.writeSync(fd, block);
    }
    fs.closeSync(fd);

    const snap = inChild(layout.root, 'snapshot', 'models');
    assert.ok(snap.peakMb <= LIMIT_MB, `snapshot peak RSS ${snap.peakMb.toFixed(0)} MB > ${LIMIT_MB} MB`);
    const restore = inChild(layout.root, 'restore', snap.result.id!);
    assert.ok(restore.peakMb <= LIMIT_MB, `restore peak RSS ${restore.peakMb.toFixed(0)} MB > ${LIMIT_MB} MB`);
    assert.deepEqual(restore.result.written, ['models/weights.bin']);
    const [a, b] = [await fileDigest(file), await fileDigest(path.join(layout.root, 'restored', 'models', 'weights.bin'))];
    assert.deepEqual(b, a);
    assert.equal(a.size, 300 * MB);
    assertFsck(layout);
  });
});
