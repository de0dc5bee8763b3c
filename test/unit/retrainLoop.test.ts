// The retraining loop on the monitoring example (examples/monitoring), with real components:
// Python training runs, the registry, onnxruntime evaluation, a supervised model server and
// the example's own traffic script as a bounded load. New-scanner traffic → the drift check
// alerts → the loop retrains (the pipeline's train stage) → the gates pass → v2 shadows real
// traffic → blue/green switch with no failed request; the report of it opens in Chromium with
// no request; and a variant whose gate cannot pass keeps the champion and says why.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readLoops } from '../../src/core/pipelines/loopRun';
import { monitorDeployments } from '../../src/core/pipelines/monitorRun';
import { writeReport } from '../../src/core/reports';
import { openInChromium } from './reportBrowser';
import { mlops } from './helpers';
import { exampleWorkspace, predictionsLogged, traffic } from './monitoringExample';
import { post } from './servingHelpers';

const row = Array.from({ length: 30 }, () => 1);
const infer = (url: string) => post(`${url}/v2/models/cancer/infer`, { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: row }] });

describe('retraining loop', () => {
  it('drift alert → retrain (pipeline stage) → gates → v2 shadows real traffic → blue/green switch with no failed request', { timeout: 300_000 }, async () => {
    const example = await exampleWorkspace();
    const load = traffic(example, 300);
    await predictionsLogged(example, 500);
    example.prepare('--arrive');
    const steps: string[] = [];
    const [checked] = await monitorDeployments(example.project, { onStep: (s) => steps.push(`${s.step}:${s.status}`) });
    await new Promise((r) => setTimeout(r, 1000));
    const sent = await load.stop();

    assert.equal(checked.verdict?.alert, true, JSON.stringify(checked));
    assert.match(checked.verdict!.reasons.join(), /data drift: \d+ of 30 features drifted.*mean_radius/);
    const result = checked.loop!;
    assert.equal(result.outcome, 'promoted', result.reason);
    assert.deepEqual(steps, ['snapshot:done', 'train:done', 'register:done', 'gates:done', 'rollout:done', 'promote:done', 'switch:done']);
    assert.equal(result.version, 2);
    assert.equal(sent.failed, 0, `failed requests during the loop: ${JSON.stringify(sent)}`);
    assert.ok(sent.versions['1'] > 0 && sent.versions['2'] > 0, `both versions answered: ${JSON.stringify(sent.versions)}`);
    const { project } = example;
    assert.deepEqual({ ...project.registry.model('cancer').aliases }, { champion: 2, challenger: 2 });
    assert.equal((await infer(example.url)).json.model_version, '2');
    const accuracy = Object.fromEntries(result.gates!.gates.map((g) => [g.gate, g.value]));
    assert.ok(accuracy['accuracy >= champion + 0.02']! > 0.95, `v2 is good on the new scanner: ${JSON.stringify(result.gates)}`);

    // One loop run whose tags are its timeline; the training and evaluation runs hang under it.
    const loopRun = project.tracking.getRun(result.loop)!;
    assert.equal(loopRun.status, 'FINISHED');
    assert.deepEqual(Object.keys(loopRun.tags).filter((k) => k.startsWith('mlops.loop.step.')).sort(), [
      'mlops.loop.step.01.snapshot', 'mlops.loop.step.02.train', 'mlops.loop.step.03.register', 'mlops.loop.step.04.gates',
      'mlops.loop.step.05.rollout', 'mlops.loop.step.06.promote', 'mlops.loop.step.07.switch',
    ]);
    const children = project.tracking.listRuns().filter((r) => project.tracking.getRun(r.id)!.tags['mlflow.parentRunId'] === result.loop);
    assert.equal(children.length, 3, 'the train stage\'s run and the two evaluation runs');
    assert.equal(project.registry.version('cancer', 2).run_id, result.steps.find((s) => s.step === 'train')!.run, 'v2 links to the stage run that trained it');
    const actions = project.audit.entries().map((e) => e.action);
    for (const a of ['retrain', 'register', 'evaluate', 'shadow', 'promote', 'switch', 'retrain.end']) assert.ok(actions.includes(a), `audited: ${a}`);
    assert.equal(readLoops(project.layout).at(-1)!.state, 'promoted');
    const status = JSON.parse(mlops(example.root, 'monitor', 'status', '--json').stdout) as { deployment: string; verdict: { alert: boolean }; loop: { state: string; trigger: string } }[];
    assert.deepEqual(status.map((s) => [s.deployment, s.verdict.alert, s.loop.state, s.loop.trigger]), [['cancer', true, 'promoted', 'alert']]);

    // The deployment's shareable report: every section, no network.
    const file = path.join(example.root, 'report.html');
    await writeReport(project, ['cancer'], file);
    const opened = await openInChromium(file);
    assert.deepEqual(opened.requests.filter((u) => !u.startsWith('file://')), [], 'no network request');
    assert.deepEqual(opened.sections, { runs: 'Runs compared', card: 'Model card', gates: 'Gates', drift: 'Drift', loops: 'Retraining history' });
    const html = fs.readFileSync(file, 'utf8');
    assert.match(html, /cancer v2 <span class="ok">passes its gates/);
    assert.match(html, /promoted/);
    assert.ok(opened.charts >= 30, `a histogram per feature: ${opened.charts}`);
  });

  it('mlops monitor run: no alert on today\'s traffic (exit 0); forced, a new version failing a gate keeps the champion and says which', { timeout: 300_000 }, async () => {
    const example = await exampleWorkspace((yaml) => yaml.replace('accuracy >= champion + 0.02', 'accuracy >= champion + 0.5').replace('  stage: train', '  cmd: /usr/bin/python3 train.py'));
    const load = traffic(example, 300, 40, false);
    await predictionsLogged(example, 500);
    const quiet = mlops(example.root, 'monitor', 'run');
    await load.stop();
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.match(quiet.stdout, /^cancer: no alert \(\d+ of 30 features drifted\)$/m);

    example.prepare('--arrive');
    const forced = mlops(example.root, 'monitor', 'run', '--force', '--json');
    assert.equal(forced.code, 0, forced.stderr);
    const [outcome] = JSON.parse(forced.stdout) as { deployment: string; loop: { outcome: string; reason: string; steps: { step: string }[] } }[];
    assert.equal(outcome.loop.outcome, 'kept');
    assert.match(outcome.loop.reason, /champion stays: v2 failed 1 gate\(s\): accuracy >= champion \+ 0\.5/);
    assert.deepEqual(outcome.loop.steps.map((s) => s.step), ['snapshot', 'train', 'register', 'gates']);
    assert.equal(example.project.registry.model('cancer').aliases.champion, 1);
    assert.equal(example.project.registry.model('cancer').aliases.challenger, 2);
    assert.equal((await infer(example.url)).json.model_version, '1');
    assert.equal(example.project.deployments.get('cancer').deployment.shadow, undefined, 'no traffic reached v2');
  });
});
