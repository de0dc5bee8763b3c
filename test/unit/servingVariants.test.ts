// Comparing a deployment's variants from its prediction log: a real deployment with a shadow
// (every request answered by both; agreement from the pairs) and with an A/B split (different
// requests per arm; distributions compared), and the arithmetic on logs written by hand
// (agreement, score differences, class shares, the distance between arms, torn lines).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { compareVariants } from '../../src/core/serving/variantComparison';
import { tmpWorkspace } from './helpers';
import { breastCancer, deployedFixture, fixtureProbabilities, post } from './servingHelpers';

const { rows } = breastCancer();
const body = (i: number) => ({ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: rows[i] }] });

/** Waits until the log holds `n` records (it is written off the request path, every 200 ms). */
async function logged(dir: string, n: number): Promise<void> {
  const count = () => (fs.existsSync(path.join(dir, 'predictions.jsonl')) ? fs.readFileSync(path.join(dir, 'predictions.jsonl'), 'utf8').split('\n').filter(Boolean).length : 0);
  for (let i = 0; i < 100 && count() < n; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(count() >= n, `${count()} records logged, waited for ${n}`);
}

describe('variant comparison of a real deployment', async () => {
  const { deployments, infer } = await deployedFixture('ab');
  const dir = deployments.dir('ab');

  it('pairs each shadow answer with the served one and reports their agreement and distributions', { timeout: 60_000 }, async () => {
    await deployments.shadow('ab', 'challenger.onnx');
    for (let i = 0; i < 50; i++) assert.equal((await post(infer, body(i))).status, 200);
    await logged(dir, 100);
    const c = compareVariants(dir, 'ab');
    assert.equal(c.output, 'probabilities');
    assert.deepEqual(c.classes, ['0', '1']);
    assert.deepEqual(c.variants.map((v) => [v.variant, v.model, v.records, v.rows]), [['primary', 'cancer', 50, 50], ['shadow', 'challenger', 50, 50]]);
    // The same weights: every pair agrees, and the shares are onnxruntime's own answers.
    assert.deepEqual(c.agreement, { rows: 50, agreed: 50, rate: 1, meanAbsDifference: 0 });
    const expected = (await fixtureProbabilities(rows.slice(0, 50))).filter((p) => p[1] > p[0]).length / 50;
    for (const v of c.variants) {
      assert.equal(v.classShares[1], expected);
      assert.equal(v.histogram.reduce((a, b) => a + b, 0), 50);
      assert.ok(v.p50Ms! > 0 && v.p50Ms! <= v.p99Ms!);
    }
    assert.equal(c.bins[0], 0);
    assert.equal(c.bins.at(-1), 1);
    assert.equal(c.distance, undefined, 'one served variant: no arms to compare');
  });

  it('compares the distributions of the two arms of a split (no pairs: different requests)', { timeout: 60_000 }, async () => {
    await deployments.shadow('ab', null);
    await deployments.split('ab', { target: 'challenger.onnx', weight: 0.5 });
    for (let i = 0; i < 100; i++) assert.equal((await post(infer, body(100 + i))).status, 200);
    await logged(dir, 200);
    const c = compareVariants(dir, 'ab', { maxRecords: 100 });
    assert.deepEqual(c.variants.map((v) => v.variant), ['a', 'b']);
    assert.equal(c.variants[0].rows + c.variants[1].rows, 100);
    assert.equal(c.agreement, undefined);
    const [a, b] = c.variants;
    assert.ok(Math.abs(c.distance! - Math.abs(a.classShares[1] - b.classShares[1])) < 1e-12, 'two classes: the distance is the gap in shares');
  });
});

describe('variant comparison arithmetic', () => {
  const record = (variant: string, inputs: unknown, outputs: Record<string, unknown[]>, time: number) =>
    JSON.stringify({ time, deployment: 'd', model: variant === 'shadow' ? 'new' : 'old', version: variant === 'shadow' ? '2' : '1', variant, latency_ms: time % 10, inputs: { x: inputs }, outputs }) + '\n';

  it('counts agreement on the top class, the score difference, and skips torn lines', () => {
    const dir = tmpWorkspace().root;
    fs.writeFileSync(path.join(dir, 'predictions.jsonl'), [
      record('shadow', [[0]], { p: [[0.5, 0.5]] }, 1), // its served answer fell before the window: not a pair
      record('primary', [[1]], { p: [[0.9, 0.1]] }, 2),
      record('shadow', [[1]], { p: [[0.4, 0.6]] }, 3), // disagrees
      record('primary', [[2]], { p: [[0.2, 0.8]] }, 4),
      '{"time": 5, "torn',
      '\n',
      record('primary', [[1]], { p: [[0.9, 0.1]] }, 6), // the same request again
      record('shadow', [[2]], { p: [[0.3, 0.7]] }, 7), // agrees with the request at time 4
      record('shadow', [[1]], { p: [[0.45, 0.55]] }, 8), // pairs with the one at time 6: disagrees
    ].join(''));
    const c = compareVariants(dir, 'd');
    assert.equal(c.skippedLines, 1);
    assert.equal(c.records, 7);
    assert.equal(c.agreement!.rows, 3);
    assert.equal(c.agreement!.agreed, 1);
    assert.ok(Math.abs(c.agreement!.meanAbsDifference! - (0.5 + 0.1 + 0.45) / 3) < 1e-12);
    const [primary, shadow] = c.variants;
    assert.deepEqual([primary.variant, primary.version, shadow.variant, shadow.version], ['primary', '1', 'shadow', '2']);
    assert.deepEqual(primary.classShares, [2 / 3, 1 / 3]);
    assert.deepEqual(shadow.classShares, [0.25, 0.75], 'a tie (time 1) goes to the first class');
    assert.deepEqual(c.variants.map((v) => v.histogram.reduce((a, b) => a + b, 0)), [3, 4]);
    assert.equal(primary.histogram[2], 2, 'score 0.1 falls in the third of 20 bins');
  });

  it('compares class names by default when the deployment names classes, and measures how far apart two arms are', () => {
    const dir = tmpWorkspace().root;
    const labels = (variant: string, names: string[], t: number) => record(variant, names.map((_, i) => [t + i]), { probabilities: names.map(() => [0.5, 0.5]), label: names }, t);
    fs.writeFileSync(path.join(dir, 'predictions.jsonl'), labels('a', ['benign', 'benign', 'malignant', 'benign'], 10) + labels('b', ['malignant', 'malignant', 'benign', 'malignant'], 20));
    const c = compareVariants(dir, 'd');
    assert.equal(c.output, 'label');
    assert.deepEqual(c.classes, ['benign', 'malignant']);
    assert.deepEqual(c.variants.map((v) => v.classShares), [[0.75, 0.25], [0.25, 0.75]]);
    assert.equal(c.distance, 0.5);
    assert.deepEqual(c.bins, [], 'class names have no score');
    assert.equal(compareVariants(dir, 'd', { output: 'probabilities' }).output, 'probabilities');
  });

  it('says what to do when there is nothing to compare or the output is not there', () => {
    const dir = tmpWorkspace().root;
    assert.throws(() => compareVariants(dir, 'quiet'), /"quiet" has no logged predictions yet; send it requests/);
    fs.writeFileSync(path.join(dir, 'predictions.jsonl'), record('primary', [[1]], { p: [[1, 0]] }, 1));
    assert.throws(() => compareVariants(dir, 'd', { output: 'score' }), /no output "score"; they have p/);
  });
});
