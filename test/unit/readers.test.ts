// Readers of a workspace: CLI read commands next to a process that owns the index, on a
// read-only disk, outside any workspace, next to debris (a folder named tracking.db, a full
// disk); and the MLflow endpoint reading runs that another process writes while it serves.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { startMlflowServer, type MlflowEndpoint } from '../../src/core/mlflow';
import { Tracking } from '../../src/core/tracking/tracking';
import type { MlopsLayout } from '../../src/core/workspace/layout';
import { cliPath, tmpWorkspace, writeRun } from './helpers';

function mlops(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

/** A workspace with one finished run, logged but never indexed (no tracking.db yet), as after `mlops run`. */
function workspaceWithRun(): { layout: MlopsLayout; runId: string } {
  const layout = tmpWorkspace();
  const runId = writeRun(layout, [
    { type: 'param', key: 'lr', value: '0.1' },
    { type: 'metric', key: 'loss', value: 0.25, step: 3 },
    { type: 'run_end', status: 'FINISHED', exit_code: 0 },
  ]);
  return { layout, runId };
}

/** Everything under a folder, as relative paths. */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).sort();
}

/**
 * Runs `script` (sh, with "$@" = args) in its own mount namespace as its root, so that it may
 * mount a read-only bind or a small tmpfs without touching the machine's mounts.
 */
function inMountNamespace(script: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
}

function skipUnlessMountable(t: TestContext): boolean {
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-mount-'));
  after(() => fs.rmSync(probe, { recursive: true, force: true }));
  const r = inMountNamespace('mount --bind -o ro "$1" "$1" && ! touch "$1/x" 2>/dev/null', [probe]);
  if (r.status === 0) return false;
  t.skip(`mounting in a private mount namespace is not permitted here (unshare -rm: ${(r.stderr || r.error?.message || '').trim()})`);
  return true;
}

describe('CLI read commands next to another process that owns the index', () => {
  it('read at once without a notice while a live process holds tracking.lock (no wait for the lock)', async () => {
    const { layout, runId } = workspaceWithRun();
    const free = Date.now();
    assert.equal(mlops(layout.root, 'runs', 'list', '--json').code, 0);
    const freeMs = Date.now() - free;
    const holder = spawn('sleep', ['120']);
    after(() => holder.kill());
    fs.writeFileSync(layout.trackingLock, JSON.stringify({ pid: holder.pid, host: os.hostname(), since: Date.now() }));
    const lockBefore = fs.readFileSync(layout.trackingLock, 'utf8');
    const dbBefore = fs.readFileSync(layout.trackingDb);
    fs.appendFileSync(layout.eventsFile(runId), `${JSON.stringify({ type: 'rename', name: 'renamed-since', time: 1 })}\n`);
    const held = Date.now();
    const list = mlops(layout.root, 'runs', 'list', '--json');
    const heldMs = Date.now() - held;
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stderr, '', 'no "in use by process…" notice on the normal path');
    assert.deepEqual(JSON.parse(list.stdout).map((r: { name: string }) => r.name), ['renamed-since'], 'lines logged since the owner saved are read');
    const show = mlops(layout.root, 'runs', 'show', runId, '--json');
    assert.equal(show.stderr, '');
    assert.equal(JSON.parse(show.stdout).params.lr, '0.1');
    // Compared with the same command a moment ago (not a fixed limit): it used to wait 2 s for the lock first.
    assert.ok(heldMs < freeMs + 1500, `with the lock held: ${heldMs} ms; with it free: ${freeMs} ms`);
    assert.equal(fs.readFileSync(layout.trackingLock, 'utf8'), lockBefore, "the owner's lock is left alone");
    assert.deepEqual(fs.readFileSync(layout.trackingDb), dbBefore, 'a reader saves nothing');
  });

  it('the first runs list after a run says nothing about a missing tracking.db; a damaged one is still reported', () => {
    const { layout } = workspaceWithRun();
    const first = mlops(layout.root, 'runs', 'list');
    assert.equal(first.code, 0);
    assert.equal(first.stderr, '');
    assert.match(first.stdout, /run-/);
    fs.writeFileSync(layout.trackingDb, 'garbage, not SQLite');
    const damaged = mlops(layout.root, 'runs', 'list');
    assert.equal(damaged.code, 0);
    assert.match(damaged.stderr, /tracking\.db was unusable: .*rebuilt it from 1 run log/);
  });
});

describe('CLI read commands never create anything', () => {
  it('a folder that does not exist: a clear error, and the folder is not created', () => {
    const missing = path.join(os.tmpdir(), `mlops-nowhere-${process.pid}-${Date.now()}`);
    for (const args of [['runs', 'list'], ['runs', 'show', 'abc'], ['models', 'list'], ['snapshots', 'list']]) {
      const r = mlops(os.tmpdir(), '--workspace', missing, ...args);
      assert.equal(r.code, 1, `mlops ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /does not exist.*--workspace/);
      assert.ok(!fs.existsSync(missing), `mlops ${args.join(' ')} created ${missing}`);
    }
  });

  it('a folder that is not a workspace: an error naming the fix, and no .mlops/ made there', () => {
    const plain = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-plain-'));
    after(() => fs.rmSync(plain, { recursive: true, force: true }));
    for (const args of [['runs', 'list'], ['models', 'list'], ['snapshots', 'list']]) {
      const r = mlops(plain, ...args);
      assert.equal(r.code, 1, `mlops ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /is not a workspace \(no \.mlops\/ or mlops\.yaml there\)\. Start a tracked run there \(mlops run -- /);
      assert.deepEqual(fs.readdirSync(plain), []);
    }
  });

  it('a folder with only mlops.yaml reads as no runs yet, and gets no .mlops/', () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-yaml-'));
    after(() => fs.rmSync(project, { recursive: true, force: true }));
    fs.writeFileSync(path.join(project, 'mlops.yaml'), 'data: [data/]\n');
    for (const args of [['runs', 'list'], ['models', 'list'], ['snapshots', 'list']]) {
      const r = mlops(project, ...args);
      assert.equal(r.code, 0, `mlops ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '');
    }
    assert.deepEqual(fs.readdirSync(project), ['mlops.yaml']);
  });

  it('--workspace /proc answers (no endless mkdir) with the same error', () => {
    const r = mlops(os.tmpdir(), '--workspace', '/proc', 'runs', 'list');
    assert.equal(r.signal, null, 'the command ended by itself');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\/proc is not a workspace/);
  });
});

describe('CLI read commands on a read-only disk', () => {
  for (const part of ['the whole workspace', 'only .mlops/']) {
    it(`runs list/show, models list and snapshots list work without writing when ${part} is read-only`, (t) => {
      if (skipUnlessMountable(t)) return;
      const { layout, runId } = workspaceWithRun();
      const readOnly = part === 'only .mlops/' ? layout.dir : layout.root;
      const before = tree(layout.dir);
      const script = 'ro="$1"; ws="$2"; shift 2; mount --bind -o ro "$ro" "$ro" || exit 90; '
        + 'for cmd in "runs list" "runs show $RUN" "models list" "snapshots list"; do '
        + 'echo "== $cmd"; "$@" --workspace "$ws" $cmd; echo "rc=$?"; done 2>&1';
      const r = inMountNamespace(script, [readOnly, layout.root, process.execPath, cliPath], { RUN: runId });
      assert.equal(r.status, 0, r.stderr);
      const answers = r.stdout.split('== ').slice(1);
      assert.equal(answers.length, 4, r.stdout);
      for (const answer of answers) {
        assert.match(answer, /rc=0\n$/, answer);
        assert.doesNotMatch(answer, /EROFS|read-only|mlops:/, answer);
      }
      assert.match(answers[0], new RegExp(`run-${runId.slice(0, 4)}.*FINISHED`));
      assert.match(answers[1], /lr = 0\.1/);
      assert.match(answers[2], /No models registered yet/);
      assert.match(answers[3], /No snapshots yet/);
      assert.deepEqual(tree(layout.dir), before, 'no lock file, no index, nothing written');
    });
  }
});

describe('CLI read commands next to debris', () => {
  it('a folder named tracking.db: the runs are read, the folder is named with the fix, and nothing is left behind', () => {
    const { layout, runId } = workspaceWithRun();
    fs.mkdirSync(path.join(layout.trackingDb, 'keep'), { recursive: true });
    const before = tree(layout.dir);
    const r = mlops(layout.root, 'runs', 'list', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).map((x: { id: string }) => x.id), [runId]);
    assert.match(r.stderr, /tracking\.db is a folder, not the index file; move it away/);
    assert.deepEqual(tree(layout.dir), before, 'no temp file, no lock file left behind; the folder untouched');
  });

  it('on a full disk, runs list works and leaves no empty tracking.lock behind', (t) => {
    if (skipUnlessMountable(t)) return;
    const { layout } = workspaceWithRun();
    const disk = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-full-'));
    after(() => fs.rmSync(disk, { recursive: true, force: true }));
    // A 1 MiB tmpfs holding a copy of the workspace, filled up: new files can be made, not written.
    const script = 'disk="$1"; ws="$2"; shift 2; mount -t tmpfs -o size=1m tmpfs "$disk" || exit 90; '
      + 'cp -r "$ws/.mlops" "$disk/.mlops"; cat /dev/zero > "$disk/filler" 2>/dev/null; '
      + '"$@" --workspace "$disk" runs list; echo "rc=$?"; '
      + '"$1" -e "try { require(process.argv[1]).FileLock.acquire(process.argv[2], 1000) } catch (e) { console.log(e.message) }" "$FILE_LOCK" "$disk/.mlops/audit.jsonl.lock"; '
      + 'echo "left: $(ls -A "$disk/.mlops" | tr "\\n" " ")"';
    const fileLock = path.resolve(__dirname, '..', '..', 'src', 'core', 'workspace', 'fileLock.js');
    const r = inMountNamespace(script, [disk, layout.root, process.execPath, cliPath], { FILE_LOCK: fileLock });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /run-.*FINISHED/);
    assert.match(r.stdout, /rc=0\n/);
    assert.match(r.stdout, /Cannot take the lock \S*audit\.jsonl\.lock: the disk is full \(ENOSPC\)\. Free some space and try again/, 'a short lock (audit, registry) says why');
    assert.match(r.stdout, /left: runs \n/, 'no tracking.lock, audit.jsonl.lock, tracking.db or temp file left on the full disk');
  });
});

describe('the MLflow endpoint sees runs other processes write while it serves', () => {
  it('runs/search lists a run `mlops run` started, and runs/get follows it to FINISHED and its latest metric', async () => {
    const layout = tmpWorkspace();
    const tracking = await Tracking.open(layout.root);
    const ep = await startMlflowServer(tracking);
    try {
      await otherProcessRun(layout, ep);
    } finally {
      await ep.stop();
      tracking.close();
    }
  });
});

/** A run `mlops run` starts in another process, read through the endpoint `ep` while it runs and after it ended. */
async function otherProcessRun(layout: MlopsLayout, ep: MlflowEndpoint): Promise<void> {
  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${ep.uri}/api/2.0/mlflow/${route}`, {
      method, headers: { Authorization: `Bearer ${ep.token}`, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined,
    });
    assert.equal(res.status, 200, await res.clone().text());
    return res.json() as Promise<Record<string, any>>;
  };
  assert.deepEqual((await call('POST', 'runs/search', { experiment_ids: ['0'] })).runs ?? [], []);

  fs.writeFileSync(path.join(layout.root, 'train.py'), [
    'import os, time, mlops_workbench as mlops',
    'mlops.log_metric("loss", 0.5, step=0)',
    'mlops.flush()',
    'while not os.path.exists("go"): time.sleep(0.05)',
    'mlops.log_metric("loss", 0.25, step=1)',
  ].join('\n'));
  const child = spawn(process.execPath, [cliPath, 'run', '--name', 'from-a-terminal', '--', 'python3', 'train.py'], { cwd: layout.root, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  after(() => child.kill());

  const poll = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const listed = await poll('runs/search to list the run', async () => {
    const runs = (await call('POST', 'runs/search', { experiment_ids: ['0'] })).runs ?? [];
    return runs.find((r: { info: { run_name: string } }) => r.info.run_name === 'from-a-terminal');
  });
  const runId = listed.info.run_id as string;
  const first = await poll('the first metric', async () => {
    const run = (await call('GET', `runs/get?run_id=${runId}`)).run;
    return run.data.metrics?.length ? run : undefined;
  });
  assert.equal(first.info.status, 'RUNNING');
  assert.equal(first.data.metrics[0].value, 0.5);

  fs.writeFileSync(path.join(layout.root, 'go'), '');
  assert.equal(await exited, 0);
  const done = await poll('runs/get to show the run FINISHED', async () => {
    const run = (await call('GET', `runs/get?run_id=${runId}`)).run;
    return run.info.status === 'FINISHED' ? run : undefined;
  });
  assert.deepEqual(done.data.metrics.map((m: { key: string; value: number; step: number }) => [m.key, m.value, m.step]), [['loss', 0.25, 1]]);
  const searched = (await call('POST', 'runs/search', { experiment_ids: ['0'], filter: 'metrics.loss < 0.3' })).runs;
  assert.deepEqual(searched.map((r: { info: { run_id: string; status: string } }) => [r.info.run_id, r.info.status]), [[runId, 'FINISHED']]);
}
