import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runPipeline } from '../../src/core/pipelines/run';
import { PIPELINE_RUN_TAG, PIPELINE_STAGE_TAG } from '../../src/core/pipelines/tags';
import { pipelineStatus } from '../../src/core/pipelines/status';
import { Tracking } from '../../src/core/tracking/tracking';
import { cliPath, mlops, repoRoot, tmpWorkspace } from './helpers';

const outcomes = (r: { stages: { name: string; outcome: string }[] }) => Object.fromEntries(r.stages.map((s) => [s.name, s.outcome]));

/** The example project (examples/pipeline) copied into a fresh workspace. */
function examplePipeline(): string {
  const ws = tmpWorkspace();
  fs.cpSync(path.join(repoRoot, 'examples', 'pipeline'), ws.root, { recursive: true, filter: (src) => !/[/\\](\.mlops|data|models|metrics)$/.test(src) });
  return ws.root;
}

async function tagsOfRuns(root: string): Promise<Map<string, Record<string, string>>> {
  const t = await Tracking.open(root);
  try {
    t.refresh();
    return t.tagsOf();
  } finally {
    t.close();
  }
}

describe('pipeline runs of the four-stage example (real python3 processes)', () => {
  const root = examplePipeline();

  it('runs prepare → featurize → train → evaluate, each a tracked run tagged with the pipeline run', async () => {
    const r = await runPipeline(root);
    assert.equal(r.status, 'succeeded', JSON.stringify(r.stages));
    assert.deepEqual(r.stages.map((s) => [s.name, s.outcome]), [['prepare', 'ran'], ['featurize', 'ran'], ['train', 'ran'], ['evaluate', 'ran']]);
    assert.ok(JSON.parse(fs.readFileSync(path.join(root, 'metrics', 'eval.json'), 'utf8')).accuracy > 0.8);
    const tags = await tagsOfRuns(root);
    for (const s of r.stages) {
      assert.equal(tags.get(s.run!)?.[PIPELINE_RUN_TAG], r.id);
      assert.equal(tags.get(s.run!)?.[PIPELINE_STAGE_TAG], s.name);
    }
    assert.ok((await pipelineStatus(root)).stages.every((s) => s.state === 'up-to-date'));
  });

  it('runs again with every stage skipped and no new run', async () => {
    const before = (await tagsOfRuns(root)).size;
    const r = await runPipeline(root);
    assert.deepEqual(outcomes(r), { prepare: 'skipped', featurize: 'skipped', train: 'skipped', evaluate: 'skipped' });
    assert.equal((await tagsOfRuns(root)).size, before);
  });

  it('after a param changes, says why and runs only train and what follows it', async () => {
    fs.writeFileSync(path.join(root, 'params.json'), JSON.stringify({ train: { lr: 0.2, epochs: 200 } }));
    const status = await pipelineStatus(root);
    const train = status.stages.find((s) => s.name === 'train')!;
    assert.equal(train.state, 'changed');
    assert.deepEqual(train.reasons, ['param "params.json:train.lr" changed (0.5 → 0.2)']);
    assert.deepEqual(status.stages.find((s) => s.name === 'evaluate')!.reasons, ['upstream stage "train" is out of date']);
    assert.equal(status.stages.find((s) => s.name === 'featurize')!.state, 'up-to-date');
    const r = await runPipeline(root);
    assert.deepEqual(outcomes(r), { prepare: 'skipped', featurize: 'skipped', train: 'ran', evaluate: 'ran' });
  });

  it('after a dep of featurize changes, reruns featurize and the stages downstream of it only', async () => {
    const file = path.join(root, 'featurize.py');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(':.6f', ':.4f'));
    const r = await runPipeline(root);
    assert.deepEqual(outcomes(r), { prepare: 'skipped', featurize: 'ran', train: 'ran', evaluate: 'ran' });
    assert.deepEqual(r.stages.find((s) => s.name === 'featurize')!.reasons, ['dep "featurize.py" changed']);
  });

  it('restores a deleted out from the snapshot store without running the stage', async () => {
    const model = path.join(root, 'models', 'model.json');
    const content = fs.readFileSync(model, 'utf8');
    fs.rmSync(model);
    assert.equal((await pipelineStatus(root)).stages.find((s) => s.name === 'train')!.state, 'restorable');
    const runsBefore = (await tagsOfRuns(root)).size;
    const r = await runPipeline(root);
    assert.deepEqual(outcomes(r), { prepare: 'skipped', featurize: 'skipped', train: 'restored', evaluate: 'skipped' });
    assert.equal(fs.readFileSync(model, 'utf8'), content);
    assert.equal((await tagsOfRuns(root)).size, runsBefore);
  });

  it('mlops pipeline run <stage> --downstream --force runs that stage and what follows; status --json and dag --mermaid print', () => {
    const run = mlops(root, 'pipeline', 'run', 'train', '--downstream', '--force', '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(outcomes(JSON.parse(run.stdout)), { train: 'ran', evaluate: 'ran' });
    const status = mlops(root, 'pipeline', 'status', '--json');
    assert.deepEqual(JSON.parse(status.stdout).map((s: { name: string; state: string }) => [s.name, s.state]),
      [['prepare', 'up-to-date'], ['featurize', 'up-to-date'], ['train', 'up-to-date'], ['evaluate', 'up-to-date']]);
    assert.match(mlops(root, 'pipeline', 'dag', '--mermaid').stdout, /flowchart TD\n {2}s0\["prepare"\][\s\S]*s2 --> s3/);
  });
});

describe('pipeline runs (sh stages)', () => {
  it('runs independent stages side by side', async () => {
    const root = tmpWorkspace().root;
    const stage = (n: string) => `  ${n}:\n    cmd: date +%s%N > ${n}.start; sleep 1; date +%s%N > ${n}.end\n    outs: [${n}.start, ${n}.end]\n`;
    fs.writeFileSync(path.join(root, 'mlops.yaml'), `stages:\n${stage('a')}${stage('b')}`);
    const r = await runPipeline(root, { parallel: 2 });
    assert.equal(r.status, 'succeeded', JSON.stringify(r.stages));
    const t = (f: string) => BigInt(fs.readFileSync(path.join(root, f), 'utf8').trim());
    assert.ok(t('a.start') < t('b.end') && t('b.start') < t('a.end'), 'the two stages overlapped in time');
  });

  it('stops after a failed stage: the stages after it do not run, and the CLI exits 1 naming it', () => {
    const root = tmpWorkspace().root;
    fs.writeFileSync(path.join(root, 'mlops.yaml'), 'stages:\n  a:\n    cmd: echo broken >&2; exit 3\n    outs: [a.txt]\n  b:\n    cmd: cp a.txt b.txt\n    deps: [a.txt]\n    outs: [b.txt]\n');
    const r = mlops(root, 'pipeline', 'run');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Stage "a" failed: its command exited with code 3/);
    assert.match(r.stderr, /stage b: not-run \(upstream stage "a" did not succeed\)/);
    assert.ok(!fs.existsSync(path.join(root, 'b.txt')));
  });

  it('a cancel stops the running stage\'s process and runs nothing after it', async () => {
    const root = tmpWorkspace().root;
    fs.writeFileSync(path.join(root, 'mlops.yaml'), 'stages:\n  slow:\n    cmd: sleep 30; echo late > slow.txt\n    outs: [slow.txt]\n  after:\n    cmd: cp slow.txt after.txt\n    deps: [slow.txt]\n    outs: [after.txt]\n');
    const stop = new AbortController();
    const t = Date.now();
    const r = await runPipeline(root, { signal: stop.signal, onEvent: (e) => { if (e.type === 'stage' && e.state === 'running') stop.abort(); } });
    assert.ok(Date.now() - t < 20_000, 'the sleep was stopped, not waited for');
    assert.equal(r.status, 'cancelled');
    assert.deepEqual(outcomes(r), { slow: 'failed', after: 'not-run' });
    assert.match(r.stages[0].error!, /it was stopped/);
    assert.ok(!fs.existsSync(path.join(root, 'slow.txt')));
  });

  it('refuses a second pipeline run while one is under way in another process, naming it; a dead run\'s lock is taken over', async () => {
    const root = tmpWorkspace().root;
    fs.writeFileSync(path.join(root, 'mlops.yaml'), 'stages:\n  slow:\n    cmd: touch started; sleep 3; echo done > slow.txt\n    outs: [slow.txt]\n');
    const first = spawn(process.execPath, [cliPath, 'pipeline', 'run'], { cwd: root, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => first.on('exit', resolve));
    for (const deadline = Date.now() + 30_000; !fs.existsSync(path.join(root, 'started'));) {
      assert.ok(Date.now() < deadline, 'the first run started its stage');
      await new Promise((r) => setTimeout(r, 50));
    }
    await assert.rejects(runPipeline(root), new RegExp(`^Error: Another pipeline run is under way in this workspace \\(process ${first.pid} on ${os.hostname()}\\)`));
    assert.equal(await exited, 0, 'the first run went on undisturbed');
    assert.equal(fs.readFileSync(path.join(root, 'slow.txt'), 'utf8'), 'done\n');
    const lock = path.join(root, '.mlops', 'pipelines', 'run.lock');
    assert.ok(!fs.existsSync(lock), 'the first run let go of the lock when it ended');
    fs.writeFileSync(lock, JSON.stringify({ pid: spawnSync('true').pid, host: os.hostname(), since: Date.now() }));
    const r = await runPipeline(root, { force: true });
    assert.equal(r.status, 'succeeded', 'the lock of a process that died is taken over');
  });

  it('refuses a stage that does not write a declared out', async () => {
    const root = tmpWorkspace().root;
    fs.writeFileSync(path.join(root, 'mlops.yaml'), 'stages:\n  a:\n    cmd: "true"\n    outs: [never.txt]\n');
    const r = await runPipeline(root);
    assert.equal(r.status, 'failed');
    assert.match(r.stages[0].error!, /finished but did not write "never.txt", declared in its outs \(mlops.yaml line 2\)/);
  });

  it('mlops pipeline status names the stages and the line of a cycle, a twice-claimed out and a missing dep', () => {
    const root = tmpWorkspace().root;
    fs.writeFileSync(path.join(root, 'mlops.yaml'), [
      'stages:', '  a:', '    cmd: x', '    deps: [b.txt]', '    outs: [a.txt]', '  b:', '    cmd: y', '    deps: [a.txt, gone.csv]', '    outs: [b.txt, a.txt]', '',
    ].join('\n'));
    const r = mlops(root, 'pipeline', 'status');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /mlops.yaml:9: Stages "a" \(line 2\) and "b" \(line 6\) both claim the out "a.txt"/);
    assert.match(r.stderr, /mlops.yaml:8: Stage "b" depends on "gone.csv", which does not exist and which no stage makes/);
    assert.match(r.stderr, /mlops.yaml:2: Stages "a" \(line 2\), "b" \(line 6\) form a cycle: a → b → a/);
  });
});
