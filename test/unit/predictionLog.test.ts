// The prediction log as drift monitoring reads it back: whole lines in order, rotated by size,
// and records a full disk refused dropped whole, never torn.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { PredictionLog, predictionLogFiles } from '../../src/core/serving/predictionLog';
import { mountSmallDisk } from './tmpfs';

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-predlog-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const tensor = (values: number[]) => ({ datatype: 'FP32' as const, shape: [1, values.length], data: Float32Array.from(values) });

function record(log: PredictionLog, id: number, width = 30): void {
  log.record({
    time: 1_800_000_000_000 + id, deployment: 'cancer', model: 'cancer', version: '1', variant: 'primary', latency_ms: 0.5,
    inputs: { input: Buffer.from(JSON.stringify([Array.from({ length: width }, (_, i) => id + i / 8)])) },
    outputs: { probabilities: tensor([0.25, 0.75]) }, id: String(id),
  });
}

/** Every record of the log's files, oldest first. */
function readAll(dir: string): { id: string; inputs: { input: number[][] }; outputs: { probabilities: number[][] } }[] {
  return predictionLogFiles(dir).flatMap((f) => {
    const text = fs.readFileSync(f, 'utf8');
    assert.ok(text === '' || text.endsWith('\n'), `${f} ends with a whole line`);
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  });
}

const probe = mountSmallDisk(1024 * 1024);
const skip = 'skip' in probe ? probe.skip : false;
if (!('skip' in probe)) probe.unmount();

describe('the prediction log', () => {
  it('writes every record whole and in order, rotating by size and keeping the newest files', () => {
    const dir = tmpDir();
    const errors: string[] = [];
    const log = new PredictionLog(dir, { sampleRate: 1, maxFileBytes: 64 * 1024, keepFiles: 2 }, (m) => errors.push(m));
    // Large records: several writes (one each 256 KB) and rotations.
    for (let id = 0; id < 3000; id++) record(log, id, 100);
    log.flush();
    assert.deepEqual(errors, []);
    const files = predictionLogFiles(dir);
    assert.equal(files.length, 3, `2 rotated files and the current one: ${files.map((f) => path.basename(f)).join(', ')}`);
    const ids = readAll(dir).map((r) => Number(r.id));
    assert.equal(ids.at(-1), 2999, 'the newest record is on disk once flushed');
    assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => ids[0] + i), 'consecutive: nothing lost or reordered between rotations');
    const last = readAll(dir).at(-1)!;
    assert.deepEqual(last.inputs.input[0].slice(0, 3), [2999, 2999.125, 2999.25]);
    assert.deepEqual(last.outputs.probabilities, [[0.25, 0.75]]);
  });

  it('on a full disk drops records whole and says so, and writes again once space is freed', { skip }, () => {
    const disk = mountSmallDisk(1024 * 1024);
    if ('skip' in disk) throw new Error(disk.skip);
    try {
      const errors: string[] = [];
      const log = new PredictionLog(disk.dir, { sampleRate: 1, maxFileBytes: 1 << 20, keepFiles: 1 }, (m) => errors.push(m));
      record(log, 1);
      log.flush();
      disk.fill();
      for (let id = 2; id < 200; id++) record(log, id, 100);
      log.flush();
      assert.match(errors.join('\n'), /prediction log: 198 records not written: .*disk is full/);
      disk.free();
      record(log, 200);
      log.flush();
      assert.deepEqual(readAll(disk.dir).map((r) => r.id), ['1', '200']);
    } finally {
      disk.unmount();
    }
  });
});
