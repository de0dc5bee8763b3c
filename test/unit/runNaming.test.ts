import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { launchTrackedRun } from '../../src/core/tracking/launcher';
import { nextRunName, runNameBase } from '../../src/core/tracking/runNaming';
import { cliPath, repoRoot, tmpWorkspace, writeRun } from './helpers';

function namedRun(layout: ReturnType<typeof tmpWorkspace>, name: string): void {
  const id = writeRun(layout, []);
  const file = layout.eventsFile(id);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/"name":"[^"]*"/, `"name":${JSON.stringify(name)}`));
}

describe('default run names', () => {
  it('numbers runs of a script above the highest number any run started with', () => {
    const layout = tmpWorkspace();
    assert.equal(nextRunName(layout.runsDir, 'train'), 'train-1');
    for (const name of ['train-1', 'train-7', 'train', 'trainer-12', 'train-x', 'train-3b', 'eval-40']) namedRun(layout, name);
    fs.mkdirSync(path.join(layout.runsDir, 'not-a-run')); // no log
    fs.mkdirSync(path.join(layout.runsDir, 'torn'));
    fs.writeFileSync(path.join(layout.runsDir, 'torn', 'events.jsonl'), '{"type":"run_start","na');
    assert.equal(nextRunName(layout.runsDir, 'train'), 'train-8');
    assert.equal(nextRunName(layout.runsDir, 'eval'), 'eval-41');
    assert.equal(nextRunName(layout.runsDir, 'a.b'), 'a.b-1');
    assert.equal(nextRunName(path.join(layout.root, 'missing'), 'train'), 'train-1');
  });

  it('takes the base from the script of a Python command, else the command', () => {
    assert.equal(runNameBase('/usr/bin/python3', ['-u', 'src/train.py', '--lr', '0.1']), 'train');
    assert.equal(runNameBase('bash', ['job.sh']), 'bash');
  });

  it('gives launched runs, `mlops run`, given names and the Python client\'s own runs one sequence (real processes)', async () => {
    const layout = tmpWorkspace();
    const file = path.join(layout.root, 'train.py');
    fs.writeFileSync(file, 'import mlops_workbench as mlops\nmlops.log_metric("loss", 0.5)\n');
    const launch = async (name?: string): Promise<string> => {
      const run = launchTrackedRun({ layout, command: 'python3', args: [file], cwd: layout.root, name, source: 'script', capturePackages: false });
      assert.equal((await run.finished).status, 'FINISHED');
      return JSON.parse(fs.readFileSync(layout.eventsFile(run.runId), 'utf8').split('\n')[0]).name as string;
    };
    assert.equal(await launch(), 'train-1');
    assert.equal(await launch(), 'train-2');
    assert.equal(await launch('baseline'), 'baseline');
    // `python3 train.py` outside any launcher: the client starts its own run, next in the sequence.
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: path.join(repoRoot, 'python') };
    for (const key of ['MLOPS_RUN_ID', 'MLOPS_RUN_DIR', 'MLOPS_DIR']) delete env[key];
    execFileSync('python3', [file], { cwd: layout.root, env });
    const names = fs.readdirSync(layout.runsDir).map((id) => JSON.parse(fs.readFileSync(layout.eventsFile(id), 'utf8').split('\n')[0]).name as string);
    assert.deepEqual(names.sort(), ['baseline', 'train-1', 'train-2', 'train-3']);
    assert.equal(await launch(), 'train-4');
    // `mlops run` in a terminal: the same launcher, the same sequence.
    const cli = spawnSync(process.execPath, [cliPath, 'run', '--', 'python3', 'train.py'], { cwd: layout.root, env, encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    const id = /run ([0-9a-f]{32}) FINISHED/.exec(cli.stderr)![1];
    assert.equal(JSON.parse(fs.readFileSync(layout.eventsFile(id), 'utf8').split('\n')[0]).name, 'train-5');
  });
});
