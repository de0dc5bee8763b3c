// Picking a remote run back up after its follower ended: the `mlops run --target` process is
// killed mid-run (as when the editor or terminal closes), the job goes on on a real sshd host,
// and a new follower resumes from the offsets the first one saved, losing and repeating nothing.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resumeRemoteRuns } from '../../src/core/compute/remoteRun';
import { Tracking } from '../../src/core/tracking/tracking';
import { cliPath } from './helpers';
import { gitProject, until } from './remoteHelpers';
import { startSshd, type TestSshd } from './sshd';

const TRAIN = `
import os, sys, time
import mlops_workbench as mw
mw.log_metric("loss", 0.9, step=0)
mw.flush()
print("epoch 0 done", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
mw.log_metric("loss", 0.4, step=1)
print("epoch 1 done", flush=True)
open("model.txt", "w").write("w")
mw.log_artifact("model.txt")
`;

/** Two bursts (epoch 0, then epoch 1 once \`go\` exists), then epoch 2 once \`release\` exists. */
const TWO_BURSTS = `
import os, sys, time
import mlops_workbench as mw
def wait_for(f):
    while not os.path.exists(f):
        time.sleep(0.05)
for step, gate in enumerate([None, sys.argv[1], sys.argv[2]]):
    if gate:
        wait_for(gate)
    mw.log_metric("loss", 0.9 - step / 10, step=step)
    mw.flush()
    print(f"epoch {step} done", flush=True)
`;

describe('a remote run whose follower was killed (real sshd target)', () => {
  let sshd: TestSshd;
  before(async () => { sshd = await startSshd(); });
  after(async () => { await sshd?.stop(); });

  it('is resumed by a new follower from where the old one was, and ends FINISHED with every metric once', async () => {
    const t = sshd.target();
    const ws = gitProject(`targets:\n${sshd.entry()}`, { 'train.py': TRAIN });
    const release = path.join(ws.root, 'release');
    const cli = spawn(process.execPath, [cliPath, 'run', '--target', t.name, '--', 'python3', 'train.py', release], { cwd: ws.root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    cli.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const runId = await until('the run to start', () => /run ([0-9a-f]{32}) started/.exec(stderr)?.[1]);
    const events = ws.eventsFile(runId);
    await until('the first loss to stream back', () => /"key":"loss"/.test(fs.readFileSync(events, 'utf8')) || undefined);
    await until('the first output to stream back', () => fs.readFileSync(path.join(ws.artifactsDir(runId), 'output.log'), 'utf8').includes('epoch 0') || undefined);
    cli.kill('SIGKILL');
    await new Promise((r) => cli.once('close', r));

    fs.writeFileSync(release, '');
    const resumed = resumeRemoteRuns({ layout: ws });
    assert.deepEqual(resumed.map((r) => r.runId), [runId]);
    assert.deepEqual(resumeRemoteRuns({ layout: ws }), [], 'a run already followed here is not followed twice');
    assert.equal((await resumed[0].finished).status, 'FINISHED');
    assert.deepEqual(resumeRemoteRuns({ layout: ws }), [], 'an ended run is not resumed');

    const output = fs.readFileSync(path.join(ws.artifactsDir(runId), 'output.log'), 'utf8');
    assert.equal(output, 'epoch 0 done\nepoch 1 done\n', 'output neither lost nor repeated');
    const tracking = await Tracking.open(ws.root);
    const detail = tracking.getRun(runId)!;
    tracking.close();
    assert.equal(detail.status, 'FINISHED');
    assert.equal(detail.metrics.find((m) => m.key === 'loss')!.count, 2, 'each loss once');
    assert.ok(detail.artifacts.some((a) => a.path === 'model.txt'));
  });

  it('repeats nothing when the killed follower had appended more than it had saved (killed between the two)', async () => {
    const t = sshd.target();
    const ws = gitProject(`targets:\n${sshd.entry()}`, { 'train.py': TWO_BURSTS });
    const [go, release] = [path.join(ws.root, 'go'), path.join(ws.root, 'release')];
    const cli = spawn(process.execPath, [cliPath, 'run', '--target', t.name, '--', 'python3', 'train.py', go, release], { cwd: ws.root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    cli.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const runId = await until('the run to start', () => /run ([0-9a-f]{32}) started/.exec(stderr)?.[1]);
    const events = ws.eventsFile(runId);
    const output = path.join(ws.artifactsDir(runId), 'output.log');
    const saved = path.join(ws.runDir(runId), 'follow.json');
    await until('epoch 0 to stream back', () => (fs.readFileSync(events, 'utf8').includes('"step":0') && fs.existsSync(output) && fs.readFileSync(output, 'utf8').includes('epoch 0')) || undefined);
    const savedOutput = () => (fs.existsSync(saved) ? (JSON.parse(fs.readFileSync(saved, 'utf8')) as { output: number }).output : 0);
    await until('the follower to save its offsets after epoch 0', () => savedOutput() === 'epoch 0 done\n'.length || undefined);
    const afterEpoch0 = fs.readFileSync(saved, 'utf8');
    fs.writeFileSync(go, '');
    await until('epoch 1 to stream back', () => (fs.readFileSync(events, 'utf8').includes('"step":1') && fs.readFileSync(output, 'utf8').includes('epoch 1')) || undefined);
    cli.kill('SIGKILL');
    await new Promise((r) => cli.once('close', r));
    // What a follower killed after appending epoch 1 but before saving that it had leaves behind.
    fs.writeFileSync(saved, afterEpoch0);

    fs.writeFileSync(release, '');
    const resumed = resumeRemoteRuns({ layout: ws });
    assert.equal((await resumed[0].finished).status, 'FINISHED');
    assert.equal(fs.readFileSync(output, 'utf8'), 'epoch 0 done\nepoch 1 done\nepoch 2 done\n', 'output neither lost nor repeated');
    const tracking = await Tracking.open(ws.root);
    const detail = tracking.getRun(runId)!;
    tracking.close();
    assert.equal(detail.metrics.find((m) => m.key === 'loss')!.count, 3, 'each loss once');
  });
});
