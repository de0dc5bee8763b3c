// The Pipelines view in the real extension host: stages of mlops.yaml appear with their
// state, Run Stage (the command id the language server's CodeLens calls) runs a stage and
// what it needs as tracked runs, the Runs view groups them, and the DAG panel loads.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { PipelineRunRecord } from '../../../src/core/pipelines/history';
import type { RunsNode } from '../../../src/extension/runs/runsTree';
import { api, waitFor, workspaceRoot } from './workbench';

const STAGES = [
  'stages:',
  '  it-make:',
  '    cmd: mkdir -p pipeline-it && echo made > pipeline-it/a.txt',
  '    outs: [pipeline-it/a.txt]',
  '  it-use:',
  '    cmd: cp pipeline-it/a.txt pipeline-it/b.txt',
  '    deps: [pipeline-it/a.txt]',
  '    outs: [pipeline-it/b.txt]',
  '',
].join('\n');

describe('pipelines', () => {
  const file = () => path.join(workspaceRoot(), 'mlops.yaml');
  let original: string | undefined;
  before(() => {
    original = fs.existsSync(file()) ? fs.readFileSync(file(), 'utf8') : undefined;
  });
  after(async () => {
    if (original === undefined) fs.rmSync(file(), { force: true });
    else fs.writeFileSync(file(), original);
    fs.rmSync(path.join(workspaceRoot(), 'pipeline-it'), { recursive: true, force: true });
    await vscode.commands.executeCommand('mlops.pipelines.refresh');
  });

  it('shows the stages, runs one with what it needs, groups the runs and draws the graph', async function () {
    this.timeout(180_000);
    const mlops = await api();
    fs.writeFileSync(file(), `${original ?? ''}\n${STAGES}`);
    await vscode.commands.executeCommand('mlops.pipelines.refresh');
    const { tree } = mlops.pipelines;
    const labels = async () => (await tree.getChildren()).map((n) => n.kind === 'stage' ? `${n.stage.name}: ${tree.getTreeItem(n).description}` : `problem: ${n.message}`);
    await waitFor('the two stages, changed', async () => {
      const l = await labels();
      return l.length === 2 && l[0] === 'it-make: changed · never run' && l[1].startsWith('it-use: changed');
    });

    const record = await vscode.commands.executeCommand<PipelineRunRecord>('mlops.pipelines.runStage', 'it-use');
    assert.ok(record, 'Run Stage answers with the pipeline run');
    assert.deepStrictEqual(record.stages.map((s) => [s.name, s.outcome]), [['it-make', 'ran'], ['it-use', 'ran']]);
    assert.strictEqual(fs.readFileSync(path.join(workspaceRoot(), 'pipeline-it', 'b.txt'), 'utf8'), 'made\n');
    assert.deepStrictEqual((await labels()).map((l) => l.split(' · ')[0]), ['it-make: ran', 'it-use: ran']);

    const group = await waitFor('the pipeline run as one node in the Runs view', async () => {
      const experiments = await mlops.tree.getChildren();
      for (const e of experiments) {
        const found = (await mlops.tree.getChildren(e)).find((n): n is Extract<RunsNode, { kind: 'pipeline' }> => n.kind === 'pipeline' && n.pipelineRun === record.id);
        if (found && found.runs.length === 2) return found;
      }
      return undefined;
    });
    assert.deepStrictEqual((await mlops.tree.getChildren(group)).map((n) => n.kind === 'run' && n.run.name.replace(/-\d+$/, '')), ['it-make', 'it-use']);

    await vscode.commands.executeCommand('mlops.pipelines.showDag');
    const panel = mlops.pipelines.dagPanel();
    assert.ok(panel, 'the DAG panel opened');
    await panel.host.whenReady();
    await waitFor('the panel to load the DAG', () => panel.host.messages.some((m) => m.direction === 'in' && m.method === 'dag/load'));
    panel.dispose();

    fs.writeFileSync(file(), `${original ?? ''}\nstages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    outs: [o]\n`);
    await vscode.commands.executeCommand('mlops.pipelines.refresh');
    await waitFor('the problem with its line', async () => (await labels()).some((l) => /^problem: line \d+: Stages "a" \(line \d+\) and "b" \(line \d+\) both claim the out "o"/.test(l)));
  });

  it('runs the pipeline on a target named by the Targets view or given, and refuses one that is not declared', async function () {
    this.timeout(120_000);
    // A declared target of type local (no ssh host inside the VS Code test host): the command hands the
    // target to the engine, whose remote stages are tested against a real sshd in pipelineRemote.test.ts.
    fs.writeFileSync(file(), `${original ?? ''}\ntargets:\n  it-box:\n    type: local\nstages:\n  it-there:\n    cmd: mkdir -p pipeline-it && echo there > pipeline-it/there.txt\n    outs: [pipeline-it/there.txt]\n`);
    await vscode.commands.executeCommand('mlops.pipelines.refresh');
    const refused = await vscode.commands.executeCommand<PipelineRunRecord | undefined>('mlops.pipelines.runOnTarget', 'nosuch');
    assert.strictEqual(refused, undefined, 'an undeclared target runs nothing');
    assert.ok(!fs.existsSync(path.join(workspaceRoot(), 'pipeline-it', 'there.txt')));
    const record = await vscode.commands.executeCommand<PipelineRunRecord>('mlops.pipelines.runOnTarget', { target: 'it-box' });
    assert.ok(record, 'Run Pipeline on Target answers with the pipeline run');
    assert.deepStrictEqual(record.stages.map((s) => [s.name, s.outcome]), [['it-there', 'ran']]);
    assert.strictEqual(fs.readFileSync(path.join(workspaceRoot(), 'pipeline-it', 'there.txt'), 'utf8'), 'there\n');
  });
});
