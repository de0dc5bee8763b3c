// What the variant comparison panel shows, from a real deployment with a shadow: the host's
// data (traffic from /metrics, the log's comparison) and the webview's tables, agreement
// line and chart series made from it; a stopped deployment still compares its log.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { variantsData } from '../../src/extension/deployments/variantsData';
import { agreementText, chartSummary, classShareSeries, histogramSeries, predictionRows, trafficRows } from '../../webview/variants/model';
import { breastCancer, deployedFixture, NORM, post } from './servingHelpers';

const { rows } = breastCancer();

describe('variant comparison panel data', async () => {
  const { deployments, infer } = await deployedFixture('panel', { standardize: NORM, labels: { names: ['malignant', 'benign'] } });

  it('tells a single-version deployment how to get a second variant', async () => {
    assert.equal((await post(infer, { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: rows[0] }] })).status, 200);
    const file = path.join(deployments.dir('panel'), 'predictions.jsonl');
    for (let i = 0; i < 50 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    const data = await variantsData(deployments, 'panel');
    assert.match(data.comparisonNote!, /serves one version: split its traffic \(mlops deployments split\) or add a shadow/);
  });

  it('shows traffic, agreement and class shares of the served version and its shadow', { timeout: 60_000 }, async () => {
    await deployments.shadow('panel', 'challenger.onnx');
    for (let i = 0; i < 30; i++) assert.equal((await post(infer, { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: rows[i] }] })).status, 200);
    assert.equal((await post(infer, { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] })).status, 400);
    let data = await variantsData(deployments, 'panel');
    for (let i = 0; i < 50 && (data.comparison?.agreement?.rows ?? 0) < 30; i++) {
      await new Promise((r) => setTimeout(r, 100));
      data = await variantsData(deployments, 'panel');
    }
    assert.equal(data.running, true);
    assert.equal(data.serving, 'cancer.onnx, shadow challenger.onnx');
    assert.equal(data.comparisonNote, null);
    assert.deepEqual(data.outputs, ['probabilities', 'label']);

    // Traffic since the server started: 31 requests served (one a client error), 30 mirrored to the shadow.
    const traffic = trafficRows(data);
    assert.deepEqual(traffic.map((r) => r.slice(0, 3)), [['primary · cancer ' + data.traffic![0].version, '32', `${(1 / 32 * 100).toFixed(1)}%`], ['shadow · challenger ' + data.traffic![1].version, '30', '0.0%']]);

    const c = data.comparison!;
    assert.equal(c.output, 'label', 'class names, since the deployment names them');
    assert.deepEqual(c.classes, ['benign', 'malignant']);
    assert.match(agreementText(c), /^The shadow agreed with the served answer on 100\.0% of 30 rows answered by both\.$/);
    const predictions = predictionRows(c);
    assert.equal(predictions.length, 2);
    assert.equal(predictions[0][1], '31', 'logged requests of the served version');
    assert.equal(predictions[1][1], '30');
    assert.match(predictions[1][5], /^(benign|malignant) \(\d+\.\d%\)$/);
    assert.equal(predictions[0][5].split(' ')[0], predictions[1][5].split(' ')[0], 'the same most predicted class');
    const shares = classShareSeries(c);
    assert.deepEqual(shares.labels, ['benign', 'malignant']);
    assert.ok(shares.series.every((s) => Math.abs(s.values[0] + s.values[1] - 1) < 1e-12));
    assert.match(chartSummary('Classes', shares), /^Classes\. primary · cancer \w+: (benign|malignant) \d+\.\d%/);
    assert.deepEqual(histogramSeries(c).labels, [], 'class names have no score histogram');
  });

  it('draws score histograms as shares of each variant\'s rows for a score output', async () => {
    const data = await variantsData(deployments, 'panel', 'probabilities');
    const h = histogramSeries(data.comparison!);
    assert.equal(h.labels.length, 20);
    assert.equal(h.labels[0], '0–0.05');
    for (const s of h.series) assert.ok(Math.abs(s.values.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  });

  it('still compares the log of a stopped deployment, and says why there is no traffic', async () => {
    await deployments.stop('panel');
    const data = await variantsData(deployments, 'panel');
    assert.equal(data.running, false);
    assert.equal(data.traffic, null);
    assert.match(data.trafficNote!, /panel is not running/);
    assert.ok(data.comparison!.agreement!.rows >= 30);
  });
});
