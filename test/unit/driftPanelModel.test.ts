// What the drift panel is sent: features by severity with labelled bins, a deployment's
// timeline from its checks, two snapshots compared (real snapshot store, real files).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { ColumnData } from '../../src/core/monitoring/columns';
import { computeDrift } from '../../src/core/monitoring/drift';
import { checkDeployment } from '../../src/core/monitoring/monitor';
import { AuditLog } from '../../src/core/governance/audit';
import { ModelRegistry } from '../../src/core/registry/registry';
import { deploymentSpec } from '../../src/core/serving/deployments';
import { DeploymentLog } from '../../src/core/serving/deploymentLog';
import { SnapshotStore } from '../../src/core/snapshots';
import { seededGaussian } from '../../src/core/validation/random';
import { MlopsLayout } from '../../src/core/workspace/layout';
import { currentUser } from '../../src/core/workspace/user';
import { driftFeatures, loadDriftData, type DriftSources } from '../../src/extension/monitoring/driftModel';
import { tmpWorkspace } from './helpers';
import { writeCsv } from './validationHelpers';

const numeric = (values: number[]) => ({ kind: 'numeric' as const, values: Float64Array.from(values), missing: 0 });

async function sources(root: string): Promise<DriftSources> {
  const layout = new MlopsLayout(root);
  const store = await SnapshotStore.open(layout);
  return { root, snapshots: async () => store, registry: async () => new ModelRegistry(layout, store, new AuditLog(layout)) };
}

describe('the drift panel data', () => {
  it('lists features most severe first, with bin labels and an infinite chi-square read back from JSON', () => {
    const g = seededGaussian(4);
    const ref = Array.from({ length: 500 }, g), cur = Array.from({ length: 500 }, () => g() + 1), same = Array.from({ length: 500 }, g);
    const report = computeDrift(
      { label: 'r', rows: 500, columns: new Map<string, ColumnData>([['calm', numeric(ref)], ['moved', numeric(ref)], ['plan', { kind: 'categorical', counts: new Map([['a', 250], ['b', 250]]), missing: 0 }]]) },
      { label: 'c', rows: 500, columns: new Map<string, ColumnData>([['calm', numeric(same)], ['moved', numeric(cur)], ['plan', { kind: 'categorical', counts: new Map([['a', 200], ['b', 200], ['z', 100]]), missing: 0 }]]) },
      { columnTests: { plan: { test: 'chisquare' } } },
    );
    const features = driftFeatures(JSON.parse(JSON.stringify(report)));
    assert.deepEqual(features.map((f) => [f.column, f.drift]), [['plan', true], ['moved', true], ['calm', false]]);
    assert.equal(features[0].statistic, 'Infinity', 'a category the reference never had');
    assert.deepEqual(features[0].bins, ['a', 'b', 'z']);
    assert.match(features[1].bins[0], /^-?[\d.]+–-?[\d.]+$/);
    assert.equal(features[1].bins.length, features[1].reference.length);
  });

  it('compares two snapshots of the same file', async () => {
    const layout = tmpWorkspace();
    const root = layout.root;
    const g = seededGaussian(6);
    writeCsv(path.join(root, 'd.csv'), ['x', 'y'], Array.from({ length: 300 }, () => [g(), g()]));
    const s = await sources(root);
    const store = await s.snapshots();
    const a = await store.snapshot(['d.csv'], { message: 'before' });
    writeCsv(path.join(root, 'd.csv'), ['x', 'y'], Array.from({ length: 300 }, () => [g() + 2, g()]));
    const b = await store.snapshot(['d.csv'], { message: 'after' });
    const data = await loadDriftData(s, { kind: 'snapshots', reference: a.id, current: b.id });
    assert.deepEqual(data.features.map((f) => [f.column, f.drift]), [['x', true], ['y', false]]);
    assert.deepEqual(data.timeline, []);
    assert.match(data.title, /^Drift: [0-9a-f]{10} → [0-9a-f]{10}$/);
  });

  it('shows a deployment latest check with the timeline of its checks, checking first when there is none', async () => {
    const layout = tmpWorkspace();
    const root = layout.root;
    new DeploymentLog(layout).append({ type: 'deploy', spec: deploymentSpec('api', 'm.onnx'), name: 'api', time: Date.now(), user: currentUser() });
    const dir = path.join(layout.dir, 'serving', 'api');
    fs.mkdirSync(dir, { recursive: true });
    const g = seededGaussian(8);
    const log = (shift: number) => fs.appendFileSync(path.join(dir, 'predictions.jsonl'), Array.from({ length: 200 }, (_, i) => JSON.stringify({ time: Date.now() + i, variant: 'primary', latency_ms: 1, inputs: { x: [g() + shift] }, outputs: {} }) + '\n').join(''));
    writeCsv(path.join(root, 'ref.csv'), ['x'], Array.from({ length: 300 }, () => [g()]));
    fs.writeFileSync(path.join(root, 'mlops.yaml'), 'monitoring:\n  reference: ref.csv\n  window: 200\n');
    const s = await sources(root);
    log(0);
    const first = await loadDriftData(s, { kind: 'deployment', deployment: 'api' });
    assert.equal(first.timeline.length, 1, 'no check yet: one is made');
    assert.equal(first.dataset.drift, false);
    log(2);
    await checkDeployment(root, 'api', { live: false });
    const second = await loadDriftData(s, { kind: 'deployment', deployment: 'api' });
    assert.deepEqual(second.timeline.map((p) => [p.drift, p.alert]), [[false, false], [true, true]]);
    assert.equal(typeof second.timeline[1].statistics.x, 'number');
    assert.match(second.reasons[0], /^data drift: 1 of 1 features drifted/);
    assert.equal(second.serving?.p99Ms?.value, 1);
  });
});
