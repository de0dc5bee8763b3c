// GPU usage sampled into system metrics while a run is active. No GPU exists here: the runs
// below find a STAND-IN nvidia-smi on PATH (test/fixtures/nvidia-smi-stand-in) that prints the
// real output of the H200 host under load (test/fixtures/gpu-host/nvidia-smi-busy.csv).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRemoteRun } from '../../src/core/compute/remoteRun';
import { gpuSamplePoints } from '../../src/core/tracking/gpuSampler';
import { launchTrackedRun } from '../../src/core/tracking/launcher';
import { Tracking } from '../../src/core/tracking/tracking';
import { fixtures, tmpWorkspace } from './helpers';
import { gitProject } from './remoteHelpers';
import { startSshd, type TestSshd } from './sshd';

const standIn = path.join(fixtures, 'nvidia-smi-stand-in', 'nvidia-smi');
const busy = fs.readFileSync(path.join(fixtures, 'gpu-host', 'nvidia-smi-busy.csv'), 'utf8').split('\n')[0];

async function gpuMetrics(root: string, runId: string) {
  const t = await Tracking.open(root);
  try {
    return t.getRun(runId)!.metrics.filter((m) => m.key.startsWith('system/')).map((m) => ({ key: m.key, latest: m.latest, count: m.count }));
  } finally {
    t.close();
  }
}

describe('GPU usage as system metrics', () => {
  it('reads the H200\'s real sample under load as utilisation, memory and power of GPU 0; "[N/A]" fields are left out', () => {
    assert.deepEqual(gpuSamplePoints(busy, 3, 1000), [
      ['system/gpu0/utilization', 96, 3, 1000], ['system/gpu0/memory_used_mib', 975, 3, 1000], ['system/gpu0/power_w', 690.07, 3, 1000],
    ]);
    assert.deepEqual(gpuSamplePoints('1, 40, 100, [N/A]\n', 0, 5).map((p) => p[0]), ['system/gpu1/utilization', 'system/gpu1/memory_used_mib']);
  });

  describe('with a STAND-IN nvidia-smi on PATH (no GPU here) printing the H200\'s real output', () => {
    const saved = { PATH: process.env.PATH, every: process.env.MLOPS_GPU_SAMPLE_SECONDS };
    before(() => {
      process.env.PATH = `${path.dirname(standIn)}${path.delimiter}${saved.PATH}`;
      process.env.MLOPS_GPU_SAMPLE_SECONDS = '0.2';
    });
    after(() => {
      process.env.PATH = saved.PATH;
      if (saved.every === undefined) delete process.env.MLOPS_GPU_SAMPLE_SECONDS;
      else process.env.MLOPS_GPU_SAMPLE_SECONDS = saved.every;
    });

    it('a local run records system/gpu0/* every interval while it is active, beside its own metrics', async () => {
      const ws = tmpWorkspace();
      const run = launchTrackedRun({
        layout: ws, command: 'python3', args: ['-c', 'import time, mlops_workbench as mw\nmw.log_metric("loss", 1.0)\ntime.sleep(3)'],
        cwd: ws.root, source: 'command', capturePackages: false,
      });
      assert.equal((await run.finished).status, 'FINISHED');
      const metrics = await gpuMetrics(ws.root, run.runId);
      assert.deepEqual(metrics.map((m) => [m.key, m.latest]).sort(), [['system/gpu0/memory_used_mib', 975], ['system/gpu0/power_w', 690.07], ['system/gpu0/utilization', 96]]);
      assert.ok(metrics.every((m) => m.count >= 2), `sampled more than once in 3 s: ${JSON.stringify(metrics)}`);
    });

    it('a run with sampling off (MLOPS_GPU_SAMPLE_SECONDS=0) records none', async () => {
      const ws = tmpWorkspace();
      const run = launchTrackedRun({ layout: ws, command: 'python3', args: ['-c', 'import time; time.sleep(0.5)'], cwd: ws.root, source: 'command', capturePackages: false, env: { MLOPS_GPU_SAMPLE_SECONDS: '0' } });
      await run.finished;
      assert.deepEqual(await gpuMetrics(ws.root, run.runId), []);
    });
  });

  describe('on a real sshd target whose host PATH has a STAND-IN nvidia-smi (no GPU here)', () => {
    let sshd: TestSshd;
    const saved = process.env.MLOPS_GPU_SAMPLE_SECONDS;
    before(async () => {
      sshd = await startSshd({ 'nvidia-smi': standIn });
      process.env.MLOPS_GPU_SAMPLE_SECONDS = '0.2';
    });
    after(async () => {
      await sshd?.stop();
      if (saved === undefined) delete process.env.MLOPS_GPU_SAMPLE_SECONDS;
      else process.env.MLOPS_GPU_SAMPLE_SECONDS = saved;
    });

    it('the runner samples the host\'s GPU into the run\'s system metrics, streamed back like the script\'s own', async () => {
      const t = sshd.target();
      const ws = gitProject(`targets:\n${sshd.entry()}`, { 'train.py': 'import time\ntime.sleep(3)\n' });
      const run = await startRemoteRun({ layout: ws, target: t, command: 'python3', args: ['train.py'] });
      assert.equal((await run.finished).status, 'FINISHED');
      const metrics = await gpuMetrics(ws.root, run.runId);
      assert.deepEqual(metrics.map((m) => [m.key, m.latest]).sort(), [['system/gpu0/memory_used_mib', 975], ['system/gpu0/power_w', 690.07], ['system/gpu0/utilization', 96]]);
      assert.ok(metrics.every((m) => m.count >= 2), JSON.stringify(metrics));
    });
  });
});
