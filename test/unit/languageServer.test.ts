import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Diagnostic, Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { Project } from '../../src/core/project';
import type { NewRunEvent } from '../../src/core/tracking/events';
import { appendEvents, newRunId } from '../../src/core/tracking/eventWriter';
import { MlopsLayout } from '../../src/core/workspace/layout';
import { fixtures } from './helpers';
import { LspClient, positionOf } from './lspClient';

const GOOD = `data:
  - data/
objectives:
  accuracy: {goal: maximize, target: 0.85}
  loss: {goal: minimize}
gates:
  - accuracy >= 0.8
  - accuracy meets objective
train:
  lr: 0.01
stages:
  prepare:
    cmd: python3 prepare.py
    deps: [data/raw.csv, prepare.py]
    outs: [data/features.csv]
  train:
    cmd: python3 train.py --lr 0.01
    deps:
      - data/features.csv
      - train.py
    params: [train.lr]
    outs: [model.onnx]
retrain:
  stage: train
  model: cancer@champion
  target: local
`;

/** A run as the launcher and the Python client write it, started at `start` (ms). */
function run(layout: MlopsLayout, name: string, start: number, events: NewRunEvent[]): void {
  const id = newRunId();
  fs.mkdirSync(layout.runDir(id), { recursive: true });
  appendEvents(layout.eventsFile(id), [
    { type: 'run_start', schema: 1, run_id: id, name, experiment: 'Default', source: 'python', time: start },
    ...events,
    { type: 'run_end', status: 'FINISHED', exit_code: 0, time: start + 500 },
  ]);
}

const metric = (key: string, value: number): NewRunEvent => ({ type: 'metric', key, value, step: 0, time: 1_700_000_000_100 });
const param = (key: string, value: string): NewRunEvent => ({ type: 'param', key, value });

/** A project with scripts, data, two runs (lr, accuracy, loss) and a registered model with a champion. */
async function project(): Promise<{ layout: MlopsLayout; file: string }> {
  // Made in the suite's before hook, so removed by its after hook (tmpWorkspace's would run when the hook ends).
  const layout = new MlopsLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-lsp-')));
  layout.ensure();
  const root = layout.root;
  fs.mkdirSync(path.join(root, 'data'));
  fs.writeFileSync(path.join(root, 'data', 'raw.csv'), 'x,y\n1,2\n');
  for (const script of ['prepare.py', 'train.py']) fs.writeFileSync(path.join(root, script), 'print("hi")\n');
  run(layout, 'baseline', 1_700_000_000_000, [param('lr', '0.1'), param('epochs', '5'), metric('accuracy', 0.8), metric('loss', 0.5)]);
  run(layout, 'tuned', 1_700_000_100_000, [param('lr', '0.01'), param('epochs', '5'), metric('accuracy', 0.9), metric('loss', 0.3)]);
  fs.copyFileSync(path.join(fixtures, 'models', 'breast_cancer_mlp.onnx'), path.join(root, 'model.onnx'));
  const p = await Project.open(root);
  try {
    await p.registry.register({ model: 'cancer', path: 'model.onnx' });
    p.registry.setAlias('cancer', 'champion', 1);
  } finally {
    p.close();
  }
  const file = path.join(root, 'mlops.yaml');
  fs.writeFileSync(file, GOOD);
  return { layout, file };
}

/** A diagnostic's words (LSP 3.18 allows Markdown there; this server sends text). */
const messageOf = (d: Diagnostic): string => (typeof d.message === 'string' ? d.message : d.message.value);

/** The text a range covers. */
function covered(text: string, d: Diagnostic): string {
  const lines = text.split('\n');
  if (d.range.start.line === d.range.end.line) return lines[d.range.start.line].slice(d.range.start.character, d.range.end.character);
  return [lines[d.range.start.line].slice(d.range.start.character), ...lines.slice(d.range.start.line + 1, d.range.end.line), lines[d.range.end.line].slice(0, d.range.end.character)].join('\n');
}

/** The one diagnostic whose message matches, with the text it points at. */
function find(diagnostics: Diagnostic[], text: string, message: RegExp): { d: Diagnostic; at: string } {
  const found = diagnostics.filter((d) => message.test(messageOf(d)));
  assert.equal(found.length, 1, `one diagnostic matching ${message}; got:\n${diagnostics.map((d) => `  ${messageOf(d)}`).join('\n')}`);
  return { d: found[0], at: covered(text, found[0]) };
}

const hoverText = (h: Hover | null) => (h ? (h.contents as MarkupContent).value : '');

describe('the mlops.yaml language server over LSP (dist/languageServer.js, stdio)', () => {
  let client: LspClient;
  let layout: MlopsLayout;
  let file: string;
  before(async () => {
    ({ layout, file } = await project());
    client = await LspClient.start(layout.root);
  });
  after(async () => {
    await client?.stop();
    fs.rmSync(layout.root, { recursive: true, force: true });
  });

  test('a sound mlops.yaml has no diagnostics, and the server never takes the tracking index lock', async () => {
    assert.deepEqual(await client.open(file), []);
    await client.completion(file, positionOf(GOOD, 'accuracy >= 0.8'));
    assert.equal(fs.existsSync(layout.trackingLock), false, 'the language server must read the index without owning it');
  });

  test('YAML syntax: an unclosed list is reported where the parser stopped', async () => {
    const text = GOOD.replace('deps: [data/raw.csv, prepare.py]', 'deps: [data/raw.csv, prepare.py');
    const diagnostics = await client.change(file, text);
    assert.ok(diagnostics.length >= 1);
    assert.match(messageOf(diagnostics[0]), /^Not valid YAML/);
    assert.ok(diagnostics[0].range.start.line >= positionOf(text, 'deps: [data/raw').line, 'the error is at or after the unclosed list');
  });

  test('schema: a wrong type on its value, an unknown key of an objective on the key, an unknown top-level key as a warning', async () => {
    const text = GOOD.replace('data:\n  - data/', 'data: 3').replace('loss: {goal: minimize}', 'loss: {goal: minimize, direction: down}') + 'stagess:\n  x: 1\n';
    const diagnostics = await client.change(file, text);
    assert.equal(find(diagnostics, text, /"data" must be a text or a list of texts/).at, '3');
    const unknown = find(diagnostics, text, /Unknown key "direction"/);
    assert.equal(unknown.at, 'direction');
    assert.match(messageOf(unknown.d), /goal, target/);
    const top = find(diagnostics, text, /Unknown key "stagess"/);
    assert.equal(top.at, 'stagess');
    assert.equal(top.d.severity, 2, 'a warning: other top-level keys may be parameter blocks');
  });

  test('stages: a missing dep file on its line, a cycle naming its stages, an unknown stage key', async () => {
    const text = GOOD.replace('deps: [data/raw.csv, prepare.py]', 'deps: [data/raw.csv, prepare.py, model.onnx]').replace('      - train.py', '      - train.py\n      - data/missing.csv').replace('    outs: [model.onnx]', '    outs: [model.onnx]\n  report:\n    cmd: echo done\n    wdir: sub');
    const diagnostics = await client.change(file, text);
    assert.equal(find(diagnostics, text, /missing\.csv/).at, '- data/missing.csv');
    const cycle = find(diagnostics, text, /cycle/);
    assert.match(messageOf(cycle.d), /"prepare".*"train"|"train".*"prepare"/);
    assert.equal(find(diagnostics, text, /unknown key "wdir"/).at, 'wdir: sub');
  });

  test('gates, targets and objectives: the engine\'s own messages on the entry they are about', async () => {
    const text = GOOD.replace('  - accuracy >= 0.8', '  - accuracy => 0.8').replace('loss: {goal: minimize}', 'loss: {goal: lower}') + 'targets:\n  gpu-box:\n    type: ssh\n';
    const diagnostics = await client.change(file, text);
    assert.equal(find(diagnostics, text, /is not a gate/).at, 'accuracy => 0.8');
    assert.equal(find(diagnostics, text, /objective "loss" needs goal: maximize or goal: minimize/).at, 'loss');
    assert.equal(find(diagnostics, text, /target "gpu-box" \(ssh\) needs "host"/).at, 'gpu-box');
  });

  test('names: a metric no run logged, a stage, a model and an alias nobody declared', async () => {
    const text = GOOD.replace('  - accuracy >= 0.8', '  - "acuracy >= 0.8"').replace('stage: train', 'stage: trian').replace('model: cancer@champion', 'model: cancer@best');
    const diagnostics = await client.change(file, text);
    const metricName = find(diagnostics, text, /No run has logged a metric "acuracy"/);
    assert.equal(metricName.at, 'acuracy');
    assert.match(messageOf(metricName.d), /accuracy, loss/);
    assert.equal(find(diagnostics, text, /No stage "trian"/).at, 'trian');
    assert.equal(find(diagnostics, text, /has no alias "best"/).at, 'cancer@best');
    const noModel = await client.change(file, GOOD.replace('model: cancer@champion', 'model: cancr'));
    assert.equal(find(noModel, GOOD.replace('model: cancer@champion', 'model: cancr'), /No model "cancr" is registered; models: cancer/).at, 'cancr');
  });

  test('targets: one from the user settings (MLOPS_TARGETS, set by the editor) is known; one declared nowhere is named', async () => {
    const withUserTargets = await LspClient.start(layout.root, { MLOPS_TARGETS: JSON.stringify({ 'my-box': { type: 'ssh', host: 'box' } }) });
    try {
      assert.deepEqual(await withUserTargets.open(file, GOOD.replace('target: local', 'target: my-box')), []);
      const unknown = GOOD.replace('target: local', 'target: their-box');
      assert.equal(find(await withUserTargets.change(file, unknown), unknown, /No target "their-box": targets are local, my-box/).at, 'their-box');
    } finally {
      await withUserTargets.stop();
    }
  });

  test('completion: top-level keys not yet written, metrics in gates and objectives, params from runs, stages and models', async () => {
    const text = `${GOOD}\n`;
    await client.change(file, text);
    const top = (await client.completion(file, { line: text.split('\n').length - 1, character: 0 })).map((i) => i.label);
    for (const key of ['targets', 'monitoring', 'sweeps']) assert.ok(top.includes(key), `top-level ${key}: ${top}`);
    assert.ok(!top.includes('data') && !top.includes('stages'), 'keys already written are not offered again');

    const withGate = GOOD.replace('  - accuracy meets objective', '  - accuracy meets objective\n  - ');
    await client.change(file, withGate);
    const gate = await client.completion(file, positionOf(withGate, '  - \n', 4));
    assert.deepEqual(gate.map((i) => i.label).sort(), ['accuracy', 'loss']);
    const afterOp = GOOD.replace('  - accuracy meets objective', '  - loss <= ');
    await client.change(file, afterOp);
    assert.deepEqual((await client.completion(file, positionOf(afterOp, 'loss <= ', 8))).map((i) => i.label), ['champion']);

    const params = GOOD.replace('params: [train.lr]', 'params: [train.lr, ');
    await client.change(file, params);
    assert.deepEqual((await client.completion(file, positionOf(params, 'train.lr, ', 10))).map((i) => i.label), ['epochs', 'lr']);

    const refs = GOOD.replace('stage: train', 'stage: ').replace('model: cancer@champion', 'model: c');
    await client.change(file, refs);
    assert.deepEqual((await client.completion(file, positionOf(refs, 'stage: ', 7))).map((i) => i.label), ['prepare', 'train']);
    const models = await client.completion(file, positionOf(refs, 'model: c', 8));
    assert.deepEqual(models.map((i) => i.label), ['cancer', 'cancer@champion']);
    assert.deepEqual(models[1].textEdit && 'range' in models[1].textEdit ? models[1].textEdit.range.start : undefined, positionOf(refs, 'model: c', 7), 'replaces the word typed so far');

    const goal = GOOD.replace('loss: {goal: minimize}', 'loss:\n    goal: ');
    await client.change(file, goal);
    assert.deepEqual((await client.completion(file, positionOf(goal, 'goal: \n', 6))).map((i) => i.label), ['maximize', 'minimize']);
  });

  test('hover: a param\'s values in recent runs, a metric\'s best run in its objective\'s direction, a stage', async () => {
    await client.change(file, GOOD);
    const lr = hoverText(await client.hover(file, positionOf(GOOD, 'train.lr]', 3)));
    assert.match(lr, /tuned.*0\.01[\s\S]*baseline.*0\.1/, `newest first:\n${lr}`);
    const accuracy = hoverText(await client.hover(file, positionOf(GOOD, 'accuracy: {goal', 2)));
    assert.match(accuracy, /best of 2 runs: \*\*0\.9\*\* in run tuned/);
    assert.match(accuracy, /✓ meets the target/);
    const loss = hoverText(await client.hover(file, positionOf(GOOD, 'loss: {goal', 1)));
    assert.match(loss, /\*\*0\.3\*\* in run tuned/, 'minimize: the lowest loss is best');
    const inGate = hoverText(await client.hover(file, positionOf(GOOD, 'accuracy >= 0.8', 3)));
    assert.match(inGate, /metric `accuracy`/);
    const stage = hoverText(await client.hover(file, positionOf(GOOD, 'train:\n    cmd', 2)));
    assert.match(stage, /stage `train`\*\*: changed \(never run[\s\S]*python3 train\.py --lr 0\.01/, 'the pipelines engine\'s state: it never ran');
  });

  test('go to definition: a stage\'s cmd opens its script, a dep opens the file', async () => {
    await client.change(file, GOOD);
    const script = await client.definition(file, positionOf(GOOD, 'python3 train.py', 2));
    assert.deepEqual(script.map((l) => fileURLToPath(l.uri)), [path.join(layout.root, 'train.py')]);
    const dep = await client.definition(file, positionOf(GOOD, 'data/raw.csv', 3));
    assert.deepEqual(dep.map((l) => fileURLToPath(l.uri)), [path.join(layout.root, 'data', 'raw.csv')]);
    assert.deepEqual(await client.definition(file, positionOf(GOOD, 'outs: [model.onnx]', 9)), [], 'outs are not deps');
  });

  test('CodeLens: Run pipeline on stages:, Run stage on each stage, Validate on gates: for each registered model', async () => {
    await client.change(file, GOOD);
    const lenses = await client.codeLenses(file);
    const shown = lenses.map((l) => ({ line: l.range.start.line, title: l.command?.title, command: l.command?.command, args: l.command?.arguments }));
    assert.deepEqual(shown, [
      { line: positionOf(GOOD, 'stages:').line, title: '$(play) Run pipeline', command: 'mlops.pipelines.run', args: [] },
      { line: positionOf(GOOD, 'prepare:').line, title: '$(play) Run stage', command: 'mlops.pipelines.runStage', args: ['prepare'] },
      { line: positionOf(GOOD, 'train:\n    cmd').line, title: '$(play) Run stage', command: 'mlops.pipelines.runStage', args: ['train'] },
      { line: positionOf(GOOD, 'gates:').line, title: '$(checklist) Validate cancer v1', command: 'mlops.promoteModelVersion', args: [{ model: 'cancer', version: 1 }] },
    ]);
  });
});
