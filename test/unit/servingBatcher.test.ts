import * as assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Batcher } from '../../src/core/serving/batcher';
import { ModelSession } from '../../src/core/serving/modelSession';
import { MODEL, breastCancer, ortAnswer } from './servingHelpers';

describe('dynamic batching with max delay 0', async () => {
  const session = await ModelSession.load(MODEL, 1);
  after(() => session.release());
  const rows = breastCancer().rows.slice(0, 48);
  const out = await ortAnswer(MODEL, { input: { type: 'float32', data: Float32Array.from(rows.flat()), dims: [rows.length, 30] } });
  const expected = Array.from(out.probabilities.data as Float32Array);
  const one = (r: number[]) => ({ input: { datatype: 'FP32' as const, shape: [1, 30], data: Float32Array.from(r) } });

  it('runs what arrived together as soon as the model is free, the rest when that run ends, each request answered with its own row', async () => {
    const runs: number[] = [];
    const batcher = new Batcher(session, { maxBatch: 32, maxDelayMs: 0 }, (n) => runs.push(n));
    const answers = await Promise.all(rows.map((r) => batcher.infer(one(r))));
    assert.deepEqual(runs, [32, 16], 'a full batch at once, then the 16 that waited for it');
    answers.forEach((a, i) => assert.deepEqual(Array.from(a.outputs.probabilities.data as Float32Array), expected.slice(i * 2, i * 2 + 2), `row ${i}`));
    await batcher.infer(one(rows[0]));
    assert.deepEqual(runs, [32, 16, 1], 'a lone request runs alone, waiting for no other');
  });
});
