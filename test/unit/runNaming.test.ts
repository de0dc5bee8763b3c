import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
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

  it('runs named at the same moment by several processes (the launcher\'s and the Python client\'s) get different names', async () => {
    const layout = tmpWorkspace();
    namedRun(layout, 'train-2');
    const naming = path.join(__dirname, '..', '..', 'src', 'core', 'tracking', 'runNaming.js');
    const node = `console.log(require(${JSON.stringify(naming)}).nextRunName(process.argv[1], 'train'))`;
    const python = `import sys; sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'python'))}); from mlops_workbench import _names; print(_names.next_run_name(sys.argv[1], "train"))`;
    const name = (command: string, args: string[]) => new Promise<string>((resolve, reject) => {
      const child = spawn(command, [...args, layout.runsDir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => { out += c; });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${command} exited ${code}`))));
    });
    const names = await Promise.all([
      ...Array.from({ length: 4 }, () => name(process.execPath, ['-e', node])),
      ...Array.from({ length: 4 }, () => name('python3', ['-c', python])),
    ]);
    assert.deepEqual([...names].sort((a, b) => Number(a.slice(6)) - Number(b.slice(6))), ['train-3', 'train-4', 'train-5', 'train-6', 'train-7', 'train-8', 'train-9', 'train-10']);
    // A name with characters the claim file's name escapes: both sides claim the same file.
    assert.equal(await name(process.execPath, ['-e', node.replace("'train'", `"x!'() é"`)]), "x!'() é-1");
    assert.equal(await name('python3', ['-c', python.replace('"train"', `"x!'() é"`)]), "x!'() é-2");
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
