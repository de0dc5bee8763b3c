// The capacity estimate in the model card: a load test of a deployment serving a registered
// version lands in that version's card (and only there); under an A/B split, in both
// versions' cards, saying what the traffic was split with.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { writeModelCard } from '../../src/core/governance/modelCard';
import { Project } from '../../src/core/project';
import { deploymentSpec } from '../../src/core/serving/deployments';
import { tmpWorkspace } from './helpers';
import { MODEL, NORM } from './servingHelpers';

describe('capacity in the model card', async () => {
  let stop = async () => {};
  after(() => stop());
  const ws = tmpWorkspace();
  fs.copyFileSync(MODEL, path.join(ws.root, 'model.onnx'));
  const project = await Project.open(ws.root);
  stop = async () => {
    await project.deployments.stopAll();
    project.close();
  };
  await project.registerModel('cancer', 'model.onnx');
  await project.registerModel('cancer', 'model.onnx');
  const card = async (version: number) => fs.readFileSync(await writeModelCard(project.layout, project.registry, project.tracking, project.snapshots, 'cancer', version), 'utf8');
  await project.deployments.deploy(deploymentSpec('web', 'cancer:1', { processing: { standardize: NORM } }));
  // One generous step: this checks where the figures go, not how fast the machine is.
  const quick = { p99Ms: 5000, stepSeconds: 1, maxRps: 20, targetRps: 100, coreHourUsd: 0.05 };

  it('shows the load test of the deployment serving a version in that version\'s card', { timeout: 60_000 }, async () => {
    assert.doesNotMatch(await card(1), /## Capacity/, 'no load test yet, no section');
    const report = await project.deployments.loadTest('web', quick);
    const text = await card(1);
    assert.match(text, /## Capacity/);
    const row = text.split('\n').find((l) => l.startsWith('| web |'));
    assert.ok(row, text);
    assert.ok(row.includes(`| 5000 ms | ${Math.round(report.maxRps)} |`), row);
    assert.ok(row.includes(`${report.instances} for 100 req/s`), row);
    assert.ok(row.includes('at 0.05 $/core-hour'), row);
    assert.ok(!row.includes('split'), row);
    assert.doesNotMatch(await card(2), /## Capacity/, 'version 2 was not measured');
  });

  it('puts a load test under an A/B split in both versions\' cards, naming the other', { timeout: 60_000 }, async () => {
    await project.deployments.split('web', { target: 'cancer:2', weight: 0.5 });
    await project.deployments.loadTest('web', quick);
    assert.match((await card(2)).split('\n').find((l) => l.startsWith('| web'))!, /traffic split with cancer 1/);
    assert.match((await card(1)).split('\n').find((l) => l.startsWith('| web'))!, /traffic split with cancer 2/);
  });
});
