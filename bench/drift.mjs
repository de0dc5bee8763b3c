#!/usr/bin/env node
// Benchmark of the drift engine (issue 14, section 1): `node bench/drift.mjs [--rows N]`.
//
//   KS + PSI on 1M rows × 20 columns, reference and current     goal ≤ 0.5× scipy ks_2samp + numpy PSI
//   drift over a 100k-row window of a prediction log            goal ≤ 1 s
//   drift report (JSON) for 1M rows                             goal ≤ 2 MB
//
// The columns are seeded Gaussians (half of them shifted by 0.05 on the current side). The
// same values go to Debian's Python (/usr/bin/python3 with scipy and numpy) as raw float64
// files, which times scipy.stats.ks_2samp and a numpy PSI (Sturges bins over both sides,
// the floor of docs/monitoring.md) per column in the same run. The engine is imported from
// out/ (tsc output); when that is missing it runs `npm run build` first.
// A missed goal prints MISSED; the exit code is 0 all the same.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { engine, ensureBuilt, repo } from './lib/engine.mjs';
import { mb, now, ratio, s } from './lib/stats.mjs';

ensureBuilt(['src/core/monitoring/drift.js']);
const { computeDrift } = engine('src/core/monitoring/drift.js');
const { sortLargeColumns } = engine('src/core/monitoring/parallelSort.js');
const { readPredictionWindow } = engine('src/core/monitoring/predictionWindow.js');
const { driftBetween } = engine('src/core/monitoring/index.js');
const { seededGaussian } = engine('src/core/validation/random.js');

const at = process.argv.indexOf('--rows');
const ROWS = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;
const COLUMNS = 20;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-bench-drift-'));
const verdict = (ok) => (ok ? 'met' : 'MISSED');

try {
  // --- 1. KS + PSI on ROWS × 20 -------------------------------------------------------------
  const gauss = seededGaussian(1);
  const ref = [], cur = [];
  for (let c = 0; c < COLUMNS; c++) {
    ref.push(Float64Array.from({ length: ROWS }, gauss));
    cur.push(Float64Array.from({ length: ROWS }, () => gauss() + (c % 2 ? 0.05 : 0)));
    fs.writeFileSync(path.join(tmp, `ref${c}.f64`), ref[c]);
    fs.writeFileSync(path.join(tmp, `cur${c}.f64`), cur[c]);
  }
  const py = spawnSync('/usr/bin/python3', ['-c', `
import sys, time, json, numpy as np
from scipy import stats
d, n = sys.argv[1], int(sys.argv[2])
cols = [(np.fromfile(f'{d}/ref{c}.f64'), np.fromfile(f'{d}/cur{c}.f64')) for c in range(n)]
exec(open(sys.argv[3]).read())
t = time.perf_counter(); ks = [float(stats.ks_2samp(a, b).statistic) for a, b in cols]; tks = time.perf_counter() - t
t = time.perf_counter(); ps = [psi(a, b) for a, b in cols]; tpsi = time.perf_counter() - t
print(json.dumps({'ks': tks * 1000, 'psi': tpsi * 1000, 'ksStat': ks, 'psiStat': ps}))
`, tmp, String(COLUMNS), path.join(repo, 'test', 'reference', 'numpy_psi.py')], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const scipy = py.status === 0 ? JSON.parse(py.stdout) : undefined;
  if (!scipy) console.log(`scipy baseline failed: ${py.stderr.trim().split('\n').pop()}`);

  const table = (label, cols) => ({ label, rows: ROWS, columns: new Map(cols.map((v, c) => [`c${c}`, { kind: 'numeric', values: v, missing: 0 }])) });
  const tests = (test) => Object.fromEntries(ref.map((_, c) => [`c${c}`, { test }]));
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`);
  let t = now();
  const refTable = table('ref', ref), curTable = table('cur', cur);
  const threads = await sortLargeColumns([refTable, curTable]);
  const tSort = now() - t;
  const ks = computeDrift(refTable, curTable, { columnTests: tests('ks') });
  const tKs = now() - t;
  t = now();
  const psi = computeDrift(refTable, curTable, { columnTests: tests('psi') });
  const tPsi = now() - t;
  const ours = tKs + tPsi;
  console.log(`KS + PSI, ${ROWS.toLocaleString('en')} rows × ${COLUMNS} columns a side`);
  console.log(`  engine              ${s(ours)}  (KS incl. sorting ${s(tKs)} of which sorting ${s(tSort)} on ${threads || 1} thread${threads > 1 ? 's' : ''}, PSI ${s(tPsi)})`);
  if (scipy) {
    const base = scipy.ks + scipy.psi;
    const agree = ks.columns.every((c, i) => Math.abs(c.statistic - scipy.ksStat[i]) <= 1e-9 * Math.max(1, scipy.ksStat[i]))
      && psi.columns.every((c, i) => Math.abs(c.statistic - scipy.psiStat[i]) <= 1e-9 * Math.max(1, scipy.psiStat[i]));
    console.log(`  scipy + numpy       ${s(base)}  (ks_2samp ${s(scipy.ks)}, numpy PSI ${s(scipy.psi)})`);
    console.log(`  ratio               ${ratio(ours, base)}  goal ≤ 0.5×: ${verdict(ours <= 0.5 * base)}; statistics equal within 1e-9: ${agree ? 'yes' : 'NO'}`);
  }

  // --- 2. report size for ROWS rows ----------------------------------------------------------
  const bytes = Buffer.byteLength(JSON.stringify(psi));
  console.log(`\nDrift report for ${ROWS.toLocaleString('en')} rows × ${COLUMNS} columns: ${mb(bytes)} (${bytes.toLocaleString('en')} bytes) of JSON  goal ≤ 2 MB: ${verdict(bytes <= 2 * 1024 * 1024)}`);
  ref.length = cur.length = 0;

  // --- 3. a 100k-row window of a prediction log ----------------------------------------------
  const WINDOW = 100_000;
  const dir = path.join(tmp, '.mlops', 'serving', 'bench');
  fs.mkdirSync(dir, { recursive: true });
  const g = seededGaussian(2);
  const features = Array.from({ length: COLUMNS }, (_, c) => `c${c}`);
  const refCsv = [features.join(','), ...Array.from({ length: 20_000 }, () => features.map(() => g().toFixed(6)).join(','))].join('\n') + '\n';
  fs.writeFileSync(path.join(tmp, 'train.csv'), refCsv);
  // One request per line (the costliest shape), 150k lines over a rotated file and the current one.
  const lines = Array.from({ length: 150_000 }, (_, i) => JSON.stringify({
    time: 1.7e12 + i, deployment: 'bench', model: 'm', version: '1', variant: 'primary', latency_ms: 1.2,
    inputs: { input: [features.map(() => Number((g() + 0.1).toFixed(6)))] }, outputs: { probabilities: [[0.3, 0.7]] }, id: `r${i}`,
  }));
  fs.writeFileSync(path.join(dir, 'predictions-1700000000000.jsonl'), lines.slice(0, 75_000).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'predictions.jsonl'), lines.slice(75_000).join('\n') + '\n');
  t = now();
  let parsed = 0;
  for (const f of ['predictions-1700000000000.jsonl', 'predictions.jsonl']) {
    for (const l of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) if (l && parsed++ < WINDOW) JSON.parse(l);
  }
  const floor = now() - t;
  t = now();
  const cpu = process.cpuUsage();
  const report = await driftBetween(tmp, { reference: 'train.csv', current: 'deployment:bench', window: String(WINDOW) });
  const window = now() - t;
  const { user, system } = process.cpuUsage(cpu);
  t = now();
  readPredictionWindow(dir, 'bench', { window: { rows: WINDOW }, featureNames: features });
  const windowOnly = now() - t;
  console.log(`\nDrift over a ${WINDOW.toLocaleString('en')}-row prediction-log window (20 features, against a 20,000-row CSV)`);
  console.log(`  mlops drift engine  ${s(window)}  (${report.current.rows.toLocaleString('en')} rows, ${report.dataset.drifted}/${report.dataset.features} drifted)  goal ≤ 1 s: ${verdict(window <= 1000)}`);
  console.log(`  CPU time            ${s((user + system) / 1000)} in all threads: the window is read (and sorted) on a worker thread while the CSV is read`);
  console.log(`  of which the window  ${s(windowOnly)} (read again alone, on the main thread, not sorted)`);
  console.log(`  read + JSON.parse of the same lines alone ${s(floor)}  ratio ${ratio(window, floor)}`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
