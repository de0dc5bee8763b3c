// `mlops pipeline run --target`: each stage a tracked remote run on a real sshd (127.0.0.1), its
// outs brought back to their workspace paths so status, skipping and restoring work as here.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PIPELINE_STAGE_TAG } from '../../src/core/pipelines/tags';
import { Tracking } from '../../src/core/tracking/tracking';
import { mlops } from './helpers';
import { gitProject } from './remoteHelpers';
import { startSshd, type TestSshd } from './sshd';

// Each stage writes where it ran (the remote job's code/ folder) into what it makes.
const PREPARE = `import os
rows = [int(x) for x in open('raw.csv').read().split()]
os.makedirs('data', exist_ok=True)
with open('data/clean.csv', 'w') as f:
    f.write('\\n'.join(str(2 * r) for r in rows) + '\\nmade in ' + os.path.basename(os.getcwd()) + '\\n')
print('prepared', len(rows), 'rows')
`;
const TRAIN = `import os
rows = [int(x) for x in open('data/clean.csv').read().split('\\n') if x.isdigit()]
os.makedirs('model/meta', exist_ok=True)
open('model/weights.txt', 'w').write(str(sum(rows)))
open('model/meta/info.txt', 'w').write('trained in ' + os.path.basename(os.getcwd()))
`;

interface StageJson { name: string; outcome: string; run?: string }

describe('a two-stage pipeline on a real sshd target', () => {
  let sshd: TestSshd;
  // Made here, not in before(): the workspace is removed when the file's tests end.
  const root = gitProject('', {
    // The outs are git-ignored (as data and models usually are): train's dep still has to reach the host.
    '.gitignore': '.mlops/\ndata/\nmodel/\n', 'raw.csv': '1\n2\n3\n', 'prepare.py': PREPARE, 'train.py': TRAIN,
  }).root;
  const run = (...args: string[]) => {
    const r = mlops(root, 'pipeline', 'run', '--target', 'gpu-box', '--json', ...args);
    assert.equal(r.code, 0, r.stderr);
    return Object.fromEntries((JSON.parse(r.stdout) as { stages: StageJson[] }).stages.map((s) => [s.name, s]));
  };
  const read = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
  before(async () => {
    sshd = await startSshd();
    fs.writeFileSync(path.join(root, 'mlops.yaml'), [
      `targets:\n${sshd.entry()}`,
      'stages:',
      '  prepare:\n    cmd: python3 prepare.py\n    deps: [prepare.py, raw.csv]\n    outs: [data/clean.csv]',
      '  train:\n    cmd: python3 train.py\n    deps: [train.py, data/clean.csv]\n    outs: [model]', '',
    ].join('\n'));
  });
  after(async () => { await sshd?.stop(); });

  it('runs both stages there as tracked remote runs and brings their outs (a file, a folder) to their workspace paths', async () => {
    const stages = run();
    assert.deepEqual([stages.prepare.outcome, stages.train.outcome], ['ran', 'ran']);
    assert.equal(read('data/clean.csv'), '2\n4\n6\nmade in code\n', 'written on the host, in the job\'s code/ folder');
    assert.equal(read('model/weights.txt'), '12', 'train read the clean data prepare made there');
    assert.equal(read('model/meta/info.txt'), 'trained in code');
    const tracking = await Tracking.open(root);
    try {
      for (const name of ['prepare', 'train']) {
        const detail = tracking.getRun(stages[name].run!)!;
        assert.equal(detail.status, 'FINISHED');
        assert.equal(detail.tags['mlops.target'], 'gpu-box');
        assert.equal(detail.tags[PIPELINE_STAGE_TAG], name);
      }
    } finally {
      tracking.close();
    }
    assert.match(fs.readFileSync(path.join(root, '.mlops', 'runs', stages.prepare.run!, 'artifacts', 'output.log'), 'utf8'), /prepared 3 rows/);
    assert.ok(!fs.existsSync(path.join(root, '.mlops', 'runs', stages.train.run!, 'artifacts', 'pipeline-outs')), 'the outs moved home, not copied');
    const status = mlops(root, 'pipeline', 'status', '--json');
    assert.deepEqual((JSON.parse(status.stdout) as { name: string; state: string }[]).map((s) => [s.name, s.state]), [['prepare', 'up-to-date'], ['train', 'up-to-date']]);
  });

  it('skips both when nothing changed, restores a deleted out from its snapshot, and reruns both on the host after the raw data changes', () => {
    const skipped = run();
    assert.deepEqual([skipped.prepare.outcome, skipped.train.outcome], ['skipped', 'skipped']);
    fs.rmSync(path.join(root, 'model'), { recursive: true });
    const restored = run();
    assert.deepEqual([restored.prepare.outcome, restored.train.outcome], ['skipped', 'restored']);
    assert.equal(read('model/weights.txt'), '12');
    fs.writeFileSync(path.join(root, 'raw.csv'), '10\n20\n');
    const again = run();
    assert.deepEqual([again.prepare.outcome, again.train.outcome], ['ran', 'ran']);
    assert.equal(read('model/weights.txt'), '60');
  });

  it('fails a stage that wrote no out on the host, though an older copy is in the workspace', () => {
    fs.writeFileSync(path.join(root, 'prepare.py'), 'print("forgot to write")\n');
    const r = mlops(root, 'pipeline', 'run', '--target', 'gpu-box', '--json');
    assert.equal(r.code, 1);
    const stages = (JSON.parse(r.stdout) as { stages: (StageJson & { error?: string })[] }).stages;
    assert.deepEqual(stages.map((s) => [s.name, s.outcome]), [['prepare', 'failed'], ['train', 'not-run']]);
    assert.match(stages[0].error!, /Stage "prepare" finished but did not write "data\/clean\.csv", declared in its outs/);
    assert.equal(read('data/clean.csv'), '20\n40\nmade in code\n', 'the older copy is left as it was');
  });
});
