#!/usr/bin/env node
// Benchmark of shipping a job to an ssh target and of a tracked remote run, against a real sshd on
// 127.0.0.1 started here (the test suite's, from out/test/unit/sshd.js), in the same run:
// `node bench/targets.mjs`.
//
//   1. ship a 10,000-file project to a target whose cache holds all but one changed file
//                                         goal ≤ 0.5 s; baseline `rsync -a` of the same files over
//                                         the same ssh into a copy that lacks the same change
//   2. a tracked remote run of `python3 train.py` in that project (ship, start detached, follow,
//      bring artifacts home) over bare `ssh host python3 train.py` in a copy already there
//                                         goal overhead ≤ 1 s
//
// Ours runs in this process (as in the editor or `mlops run`, whose node start-up is paid already);
// each figure is the median of 5, ours and the baseline taking turns. The host's PATH holds only sh,
// tar, python3 (and, for the baseline alone, rsync). The modules are the compiled CommonJS in out/
// (`npm run build` runs first when missing, or with --build). A missed goal prints MISSED; the exit
// code is 0 all the same (a benchmark never fails a build).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { engine, ensureBuilt } from './lib/engine.mjs';
import { median, now, printTable, ratio, s } from './lib/stats.mjs';

const REPS = 5;
const FILES = 10_000;

ensureBuilt(['test/unit/sshd.js']);
const rsync = spawnSync('sh', ['-c', 'command -v rsync'], { encoding: 'utf8' }).stdout.trim();
if (!rsync) {
  console.log('rsync is not installed here: the baseline of figure 1 cannot be measured; no figures.');
  process.exit(0);
}

const { startSshd } = engine('test/unit/sshd.js');
const { MlopsLayout } = engine('src/core/workspace/layout.js');
const { shipManifest } = engine('src/core/compute/shipManifest.js');
const { MATERIALIZE, shipJob } = engine('src/core/compute/shipJob.js');
const { runnerFiles } = engine('src/core/compute/jobFiles.js');
const { startRemoteRun } = engine('src/core/compute/remoteRun.js');
const { newRunId } = engine('src/core/tracking/eventWriter.js');

const started = now();
const work = fs.mkdtempSync(path.join(process.env.MLOPS_BENCH_DIR || os.tmpdir(), 'mlops-targetbench-'));
const sshd = await startSshd({ rsync });
const cleanup = async () => {
  await sshd.stop();
  fs.rmSync(work, { recursive: true, force: true, maxRetries: 5 });
};
process.on('SIGINT', () => { void cleanup().then(() => process.exit(130)); });

const rows = [];
const notes = [];
const line = (label, text) => console.log(`  ${label.padEnd(50)} ${text}`);
function record(figure, value, baseline, goal, met) {
  rows.push({ figure, value: s(value), baseline: s(baseline), ratio: ratio(value, baseline), goal, met: met ? 'yes' : 'MISSED' });
  if (!met) notes.push(`MISSED: ${figure}: ${s(value)}, goal ${goal}`);
}

console.log('MLOps Workbench — targets benchmark (shipping and remote runs over a real sshd)');
console.log(`  node ${process.version}, ${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()}, ${spawnSync(rsync, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}`);
console.log(`  ${os.cpus().length} CPU × ${os.cpus()[0]?.model?.trim() ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM; data in ${work} (deleted at the end)`);

try {
  // ------------------------------------------------------------ a 10,000-file project
  const root = path.join(work, 'project');
  const target = sshd.target('bench-box');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(root, 'mlops.yaml'), `targets:\n  ${target.name}:\n    type: ssh\n    host: ${target.host}\n    config: ${target.config}\n    workdir: ${target.workdir}\n`);
  fs.writeFileSync(path.join(root, '.gitignore'), '.mlops/\n');
  fs.writeFileSync(path.join(root, 'train.py'), 'print("trained", flush=True)\n');
  const filler = 'x'.repeat(1500);
  for (let i = 0; i < FILES - 3; i++) { // with mlops.yaml, .gitignore and train.py: FILES in all
    const dir = path.join(root, 'src', `pkg${Math.floor(i / 100)}`);
    if (i % 100 === 0) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `m${i % 100}.py`), `# module ${i}\n${filler}\n`);
  }
  const git = (...args) => execFileSync('git', args, { cwd: root, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'project');
  const count = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).trim().split('\n').length;
  const layout = new MlopsLayout(root);
  layout.ensure();
  const shell = { name: target.name, type: 'ssh', host: target.host, config: target.config };
  const ship = async () => {
    const result = await shipJob({ layout, target: target.name, shell, workdir: `'${target.workdir}'`, runId: newRunId(), rows: shipManifest(layout), extra: runnerFiles(), then: [MATERIALIZE] });
    if (result.code !== 0) throw new Error(`shipping failed: ${result.stderr}`);
    return result.shipped;
  };
  const mirror = path.join(target.workdir, 'rsync-copy');
  const sshCommand = `ssh -F ${target.config} -o BatchMode=yes`;
  const rsyncOnce = () => {
    const r = spawnSync(rsync, ['-a', '--exclude=/.git', '--exclude=/.mlops', '-e', sshCommand, `${root}/`, `${target.host}:${mirror}/`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`rsync failed: ${r.stderr}`);
  };

  console.log(`\n== 1. Shipping ${count} files (${(count * 1.5).toFixed(0)} KB) when one changed`);
  let t = now();
  const first = await ship();
  line('first ship (host cache empty; not a goal)', `${s(now() - t)}, ${first.sent.length} objects sent`);
  t = now();
  rsyncOnce();
  line('first rsync -a (copy empty; not a goal)', s(now() - t));
  const ours = [];
  const theirs = [];
  const sent = [];
  for (let i = 0; i < REPS; i++) {
    fs.writeFileSync(path.join(root, 'src', 'pkg5', `m${i}.py`), `# changed ${i} at ${Date.now()}\n${filler}\n`);
    t = now();
    sent.push((await ship()).sent.length);
    ours.push(now() - t);
    t = now();
    rsyncOnce();
    theirs.push(now() - t);
  }
  line(`ours: ship (manifest, 1 ssh connection, materialize) ×${REPS}`, `${s(median(ours))}  [${ours.map(s).join(', ')}], objects sent ${sent.join(', ')}`);
  line(`rsync -a over the same ssh ×${REPS}`, `${s(median(theirs))}  [${theirs.map(s).join(', ')}]`);
  record('1. ship 10,000 files, 1 changed', median(ours), median(theirs), '≤ 0.5 s', median(ours) <= 500);

  // ------------------------------------------------------------ a tracked run vs bare ssh
  console.log('\n== 2. A tracked remote run of python3 train.py vs bare ssh');
  const tracked = [];
  const bare = [];
  for (let i = 0; i < REPS; i++) {
    let output = '';
    t = now();
    const run = await startRemoteRun({ layout, target: { ...target }, command: 'python3', args: ['train.py'], onOutput: (text) => (output += text) });
    const outcome = await run.finished;
    tracked.push(now() - t);
    if (outcome.status !== 'FINISHED' || !output.includes('trained')) throw new Error(`the tracked run ended ${outcome.status}: ${output}`);
    t = now();
    const r = spawnSync('ssh', ['-F', target.config, '-o', 'BatchMode=yes', target.host, `cd '${mirror}' && python3 train.py`], { encoding: 'utf8' });
    bare.push(now() - t);
    if (r.status !== 0 || !r.stdout.includes('trained')) throw new Error(`bare ssh failed: ${r.stderr}`);
  }
  const overhead = median(tracked) - median(bare);
  line(`tracked run (ship, start, follow, artifacts home) ×${REPS}`, `${s(median(tracked))}  [${tracked.map(s).join(', ')}]`);
  line(`bare ssh host python3 train.py ×${REPS}`, `${s(median(bare))}  [${bare.map(s).join(', ')}]`);
  line('overhead (median − median)', s(overhead));
  record('2. tracked remote run', median(tracked), median(bare), 'overhead ≤ 1 s', overhead <= 1000);
} finally {
  await cleanup();
}

console.log('\n== Summary');
printTable(rows, { figure: 'figure', value: 'ours', baseline: 'baseline', ratio: 'ratio', goal: 'goal', met: 'met' });
console.log('  (baselines: 1. rsync -a of the same files over the same ssh; 2. bare `ssh host python3 train.py` in a copy already on the host)');
for (const n of notes) console.log(n);
console.log(`\ntotal ${s(now() - started)}`);
