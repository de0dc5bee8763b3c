import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ColumnarTable, ColumnData } from '../../src/core/monitoring/columns';
import { computeDrift, type ColumnDrift } from '../../src/core/monitoring/drift';
import { driftBetween } from '../../src/core/monitoring';
import { parseWindow, PredictionLogError, readPredictionWindow } from '../../src/core/monitoring/predictionWindow';
import { readWindow } from '../../src/core/monitoring/windowThread';
import { readPlainCsv } from '../../src/core/monitoring/plainCsv';
import { readColumns } from '../../src/core/monitoring/columns';
import { openTable } from '../../src/core/validation/table';
import { isSorted, ksTwoSample } from '../../src/core/validation/statistics';
import { kstwoSf } from '../../src/core/validation/kolmogorov';
import { seededGaussian, seededRandom } from '../../src/core/validation/random';
import { sortNumbers } from '../../src/core/validation/sortNumbers';
import { cliPath, repoRoot, tmpWorkspace } from './helpers';
import { breastCancerRows, FEATURES, python, writeCsv } from './validationHelpers';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs scipy ${b}`);
/** Relative 1e-9, with an absolute floor of 1e-300 for p-values near underflow. */
const closeRelative = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.abs(b) + 1e-300, `${what}: ${a} vs scipy ${b}`);
const numeric = (values: number[] | Float64Array, missing = 0): ColumnData => ({ kind: 'numeric', values: Float64Array.from(values), missing });
const tableOf = (label: string, columns: Record<string, ColumnData>, rows: number): ColumnarTable => ({ label, rows, columns: new Map(Object.entries(columns)) });
const column = (report: { columns: ColumnDrift[] }, name: string) => report.columns.find((c) => c.column === name)!;

const workspaces: string[] = [];
after(() => workspaces.forEach((w) => fs.rmSync(w, { recursive: true, force: true })));
function workspace(): string {
  const root = tmpWorkspace().root;
  workspaces.push(root);
  return root;
}

describe('drift statistics equal scipy through the drift engine', () => {
  it('on real data: breast-cancer features, malignant against benign rows (KS exact p-values, Wasserstein, PSI, chi-square)', () => {
    const rows = breastCancerRows();
    const malignant = rows.filter((r) => r[30] === 0), benign = rows.filter((r) => r[30] === 1);
    const picked = [0, 1, 7, 20, 27];
    const side = (part: number[][]) => Object.fromEntries(picked.map((f) => [FEATURES[f], numeric(part.map((r) => r[f]))]));
    const data = { a: picked.map((f) => malignant.map((r) => r[f])), b: picked.map((f) => benign.map((r) => r[f])) };
    const sp = python<{ ks: number[][]; w: number[]; psi: number[] }>(`
from scipy import stats
import numpy as np
exec(open(data['psi']).read())
pairs = list(zip(data['a'], data['b']))
print(json.dumps({'ks': [list(map(float, stats.ks_2samp(a, b))) for a, b in pairs],
  'w': [stats.wasserstein_distance(a, b) / max(np.std(a), 0.001) for a, b in pairs],
  'psi': [psi(np.array(a), np.array(b)) for a, b in pairs]}))
`, { ...data, psi: path.join(repoRoot, 'test', 'reference', 'numpy_psi.py') });
    const ks = computeDrift(tableOf('malignant', side(malignant), malignant.length), tableOf('benign', side(benign), benign.length));
    const w = computeDrift(tableOf('malignant', side(malignant), malignant.length), tableOf('benign', side(benign), benign.length), { columnTests: Object.fromEntries(picked.map((f) => [FEATURES[f], { test: 'wasserstein' as const }])) });
    const p = computeDrift(tableOf('malignant', side(malignant), malignant.length), tableOf('benign', side(benign), benign.length), { columnTests: Object.fromEntries(picked.map((f) => [FEATURES[f], { test: 'psi' as const }])) });
    picked.forEach((f, i) => {
      const name = FEATURES[f];
      assert.equal(column(ks, name).test, 'ks', 'under 1000 reference rows a numeric column gets KS');
      close(column(ks, name).statistic, sp.ks[i][0], `KS statistic ${name}`);
      close(column(ks, name).pValue!, sp.ks[i][1], `KS p-value ${name}`);
      close(column(w, name).statistic, sp.w[i], `Wasserstein ${name}`);
      close(column(p, name).statistic, sp.psi[i], `PSI ${name}`);
    });
    assert.equal(ks.dataset.drift, true, 'malignant and benign tumours differ');
  });

  it('on generated data: thousands of rows with ties, and chi-square on categories with a new one', () => {
    const gauss = seededGaussian(11);
    const a = Float64Array.from({ length: 9_000 }, () => Math.round(gauss() * 20) / 10);
    const b = Float64Array.from({ length: 7_000 }, () => Math.round((gauss() + 0.03) * 20) / 10);
    const ref = new Map([['red', 40], ['green', 35], ['blue', 25]]), cur = new Map([['red', 30], ['green', 40], ['blue', 28], ['violet', 2]]);
    const sp = python<{ ks: number[]; w: number; chi: number[] }>(`
from scipy import stats
import numpy as np
a, b = np.array(data['a']), np.array(data['b'])
print(json.dumps({'ks': list(map(float, stats.ks_2samp(a, b))), 'w': stats.wasserstein_distance(a, b) / max(np.std(a), 0.001),
  'chi': list(map(float, stats.chisquare([30, 40, 28, 2], [40 * 100 / 100, 35, 25, 0.0000001])))}))
`, { a: [...a], b: [...b] });
    const report = computeDrift(
      tableOf('ref', { x: numeric(a), y: numeric(a), colour: { kind: 'categorical', counts: ref, missing: 0 } }, 9_000),
      tableOf('cur', { x: numeric(b), y: numeric(b), colour: { kind: 'categorical', counts: cur, missing: 0 } }, 7_000),
      { columnTests: { x: { test: 'ks' }, colour: { test: 'chisquare' } } },
    );
    close(column(report, 'x').statistic, sp.ks[0], 'KS statistic');
    close(column(report, 'x').pValue!, sp.ks[1], 'KS p-value');
    assert.equal(column(report, 'y').test, 'wasserstein', 'over 1000 reference rows a numeric column gets normalised Wasserstein');
    close(column(report, 'y').statistic, sp.w, 'Wasserstein');
    // A category the reference never had makes chi-square infinite (scipy: an expected count of 0), so drift.
    assert.equal(column(report, 'colour').statistic, Infinity);
    assert.equal(column(report, 'colour').drift, true);
    assert.ok(sp.chi[0] > 1e6);
    assert.deepEqual(column(report, 'colour').newCategories, { values: ['violet'], rows: 2 });
  });
});

describe('KS p-values above 10,000 rows a side equal scipy 1.10 (finite-n Kolmogorov distribution, kstwo)', () => {
  // Which of scipy's methods kstwo.sf(x, n) takes, by its cut-offs (scipy/stats/_ksstats.py, _kolmogn).
  const branch = (n: number, x: number) => {
    const t = n * x, nx2 = t * x;
    if (t <= 1) return 'Ruben-Gambino low';
    if (t >= n - 1) return 'Ruben-Gambino high';
    if (x >= 0.5) return 'smirnov x>=0.5';
    if (n <= 140) return nx2 <= 0.754693 ? 'small n Durbin' : nx2 <= 4 ? 'small n Pomeranz' : 'small n smirnov';
    if (nx2 >= 370) return 'zero';
    if (nx2 >= 2.2) return 'smirnov';
    return n <= 100_000 && n * x ** 1.5 <= 1.4 ? 'Durbin' : 'Pelz-Good';
  };

  it('ks_2samp on normals, shifted and not, from 12k×15k to 250k×200k rows, through every method scipy picks', () => {
    const gauss = seededGaussian(23);
    const draw = (rows: number, shift = 0) => Float64Array.from({ length: rows }, () => gauss() + shift);
    const big = draw(250_000), other = draw(200_000), mid = draw(50_000);
    const cases: [string, Float64Array, Float64Array][] = [
      ['12k×15k shifted 0.03', draw(12_000), draw(15_000, 0.03)],
      ['12k×15k shifted 0.06', draw(12_000), draw(15_000, 0.06)],
      ['50k×50k unshifted', mid, draw(50_000)],
      ['50k×50k nearly the same values', mid, mid.map((v) => v + gauss() * 1e-4)],
      ['250k×200k unshifted', big, other],
      ['250k×200k shifted 0.01', big, other.map((v) => v + 0.01)],
      ['20,001×20,001 (m·n/(m+n) = 10,000.5 rounds to even)', big.subarray(0, 20_001), other.subarray(0, 20_001).map((v) => v + 0.02)],
      ['20k×100 shifted 0.2', big.subarray(0, 20_000), draw(100, 0.2)],
      ['20k×100 shifted 0.5', big.subarray(0, 20_000), draw(100, 0.5)],
      ['20k×130 nearly the same values', big.subarray(0, 20_000), big.subarray(0, 130).map((v) => v + 1e-3)],
    ];
    const root = workspace();
    const files = cases.map(([, a, b], i) => {
      const [fa, fb] = [path.join(root, `${i}a.f64`), path.join(root, `${i}b.f64`)];
      fs.writeFileSync(fa, a);
      fs.writeFileSync(fb, b);
      return [fa, fb];
    });
    const sp = python<number[][]>(`
from scipy import stats
import numpy as np
print(json.dumps([list(map(float, stats.ks_2samp(np.fromfile(a), np.fromfile(b)))) for a, b in data]))
`, files);
    const seen = new Set<string>();
    cases.forEach(([what, a, b], i) => {
      const r = ksTwoSample(a, b);
      const [m, n] = a.length >= b.length ? [a.length, b.length] : [b.length, a.length];
      const en = (m * n) / (m + n) % 1 === 0.5 ? 2 * Math.round((m * n) / (m + n) / 2) : Math.round((m * n) / (m + n));
      seen.add(branch(en, r.statistic));
      close(r.statistic, sp[i][0], `KS statistic ${what}`);
      closeRelative(r.pValue, sp[i][1], `KS p-value ${what} (${branch(en, r.statistic)})`);
    });
    for (const method of ['Durbin', 'Pelz-Good', 'smirnov', 'small n Pomeranz', 'small n smirnov']) assert.ok(seen.has(method), `a case takes scipy's ${method} branch: ${[...seen]}`);
  });

  it('kstwo.sf itself across n and x: every cut-off scipy draws, including n over 100,000 and over 1,000,000', () => {
    const points: [number, number][] = [];
    for (const n of [1, 2, 7, 50, 100, 140, 141, 500, 6667, 25_000]) {
      // x across the methods: near 1/n, near 1, ≥ 0.5, and nx² around 0.75, 2.2, 4, 18 and 370, n·x^1.5 around 1.4.
      const xs = [0.4 / n, 0.75 / n, 1 / n, 1.5 / n, 1 - 1.5 / n, 1 - 0.5 / n, 0.5, 0.7,
        ...[0.05, 0.3, 0.754, 0.76, 1, 2.19, 2.21, 3.9, 4.1, 10, 17.9, 18.1, 50, 360, 369, 371].map((q) => Math.sqrt(q / n)),
        ...[1, 1.39, 1.41, 2].map((q) => (q / n) ** (2 / 3))];
      for (const x of xs) if (x > 0 && x <= 1) points.push([n, x]);
    }
    // Large n, a few points each (scipy's smirnov takes half a second at n = 500,000): the Durbin limit n ≤ 100,000,
    // Pelz-Good and smirnov beyond it, and smirnov's approximation over 1,000,000.
    for (const n of [99_999, 100_000, 100_001]) points.push([n, (1.39 / n) ** (2 / 3)]);
    for (const [n, q] of [[111_111, 1], [111_111, 2.21], [500_000, 1], [500_000, 2.21], [1_000_001, 3], [2_500_000, 0.5], [2_500_000, 10]]) points.push([n, Math.sqrt(q / n)]);
    const sp = python<number[]>('from scipy import stats\nprint(json.dumps([float(stats.kstwo.sf(x, n)) for n, x in data]))', points);
    const seen = new Set<string>();
    points.forEach(([n, x], i) => {
      seen.add(branch(n, x));
      closeRelative(kstwoSf(n, x), sp[i], `kstwo.sf(${x}, ${n}) (${branch(n, x)})`);
    });
    assert.equal(seen.size, 10, `every method: ${[...seen].join(', ')}`);
  });
});

describe('sorting a column (radix sort)', () => {
  it('puts large columns in the built-in sort\'s order: negatives, -0 before 0, infinities, subnormals, ties; a NaN as the built-in sort does', () => {
    const gauss = seededGaussian(5), pick = seededRandom(5);
    const special = [-0, 0, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 1e-310, -1e-310, 2 ** 53, -(2 ** 53)];
    const values = Float64Array.from({ length: 50_000 }, (_, i) => (i < special.length ? special[i] : pick() < 0.3 ? Math.round(gauss() * 4) : gauss() * 10 ** Math.floor(gauss() * 5)));
    const same = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
    assert.ok(same(sortNumbers(values.slice()), values.slice().sort()));
    const withNaN = values.slice();
    withNaN[777] = NaN;
    assert.ok(same(sortNumbers(withNaN.slice()), withNaN.slice().sort()));
    assert.ok(same(sortNumbers(values.slice(0, 100)), values.slice(0, 100).sort()), 'a small column');
  });
});

describe('reading a reference CSV', () => {
  it('reads a plain CSV byte by byte into the columns the CSV parser gives: numbers in every form, text, missing values, CRLF, a BOM, blank lines; a quoted or ragged file is left to the parser', async () => {
    const root = workspace();
    const write = (text: string) => fs.writeFileSync(path.join(root, 'plain.csv'), text);
    const both = async () => [readPlainCsv(path.join(root, 'plain.csv'), 'plain.csv'), await readColumns(await openTable('plain.csv', root))];
    write('\ufeffa, b ,c,d\r\n1,x,1e3,-0\r\n+2.5,NA,.5,7.\r\n\r\n-3e-2, 4 ,1.00000000000000000001,12345678901234567890\r\n0.1,y,,1e400\r\n1e,2,-.5e-3,0x10\r\n');
    let [fast, parsed] = await both();
    assert.ok(fast);
    assert.deepEqual(fast, parsed);
    const gauss = seededGaussian(17);
    const forms = [(x: number) => x.toPrecision(17), (x: number) => x.toExponential(5), (x: number) => x.toFixed(3), (x: number) => String(Math.round(x * 1e6)), (x: number) => String(x * 1e-30)];
    write(['p,q,r,s,t', ...Array.from({ length: 3000 }, () => forms.map((f) => f(gauss() * 10 ** Math.floor(gauss() * 4))).join(','))].join('\n'));
    [fast, parsed] = await both();
    assert.deepEqual(fast, parsed);
    for (const other of ['a,b\n"1",2\n', 'a,b\n1,2,3\n', 'a,b\n1\n']) {
      write(other);
      assert.equal(readPlainCsv(path.join(root, 'plain.csv'), 'plain.csv'), undefined, other);
    }
  });
});

describe('drift verdicts', () => {
  it('flags a shifted feature and not an unshifted one (seeded), reports missing-value changes, and keeps histograms, not rows', () => {
    const gauss = seededGaussian(3), uniform = seededRandom(5);
    const n = 5000;
    const ref = tableOf('ref', { shifted: numeric(Array.from({ length: n }, gauss)), steady: numeric(Array.from({ length: n }, gauss)), plan: { kind: 'categorical', counts: new Map([['basic', 2500], ['pro', 2500]]), missing: 0 } }, n);
    const curPlan = new Map<string, number>([['basic', 0], ['pro', 0]]);
    for (let i = 0; i < n - 500; i++) curPlan.set(uniform() < 0.5 ? 'basic' : 'pro', curPlan.get(uniform() < 0.5 ? 'basic' : 'pro')! + 1);
    const cur = tableOf('cur', {
      shifted: numeric(Array.from({ length: n }, () => gauss() + 0.5)),
      steady: numeric(Array.from({ length: n }, gauss)),
      plan: { kind: 'categorical', counts: curPlan, missing: 500 },
    }, n);
    const report = computeDrift(ref, cur);
    assert.equal(column(report, 'shifted').drift, true);
    assert.equal(column(report, 'steady').drift, false);
    assert.equal(column(report, 'plan').test, 'jensenshannon');
    assert.equal(column(report, 'plan').drift, false);
    assert.deepEqual(column(report, 'plan').missing, { reference: 0, current: 0.1 });
    assert.deepEqual(report.dataset, { features: 3, drifted: 1, share: 1 / 3, threshold: 0.5, drift: false });
    const h = column(report, 'shifted').histogram;
    assert.equal(h.edges!.length, h.reference.length + 1);
    assert.ok(h.reference.length < 30, 'Sturges bins, not the rows');
    assert.ok(Math.abs(h.current.reduce((s, v) => s + v, 0) - 1) < 1e-9);
  });

  it('refuses unknown columns and tests that do not fit the column, naming the fix', () => {
    const t = () => tableOf('t', { x: numeric([1, 2, 3, 4, 5, 6]), c: { kind: 'categorical', counts: new Map([['a', 3], ['b', 3]]), missing: 0 } }, 6);
    assert.throws(() => computeDrift(t(), t(), { columnTests: { nope: { test: 'ks' } } }), /No column "nope".*compared columns are: x, c/);
    assert.throws(() => computeDrift(t(), t(), { columnTests: { c: { test: 'ks' } } }), /Column "c".*numeric.*chisquare/);
  });
});

/** Writes a prediction log as the serving engine does (docs/serving.md): rotated files, then predictions.jsonl. */
function writeLog(root: string, name: string, batches: { time: number; rows: number[][]; variant?: string }[], rotateAt: number): string {
  const dir = path.join(root, '.mlops', 'serving', name);
  fs.mkdirSync(dir, { recursive: true });
  const line = (b: (typeof batches)[number]) => JSON.stringify({
    time: b.time, deployment: name, model: 'm', version: '1', variant: b.variant ?? 'primary', latency_ms: 1,
    inputs: { input: b.rows }, outputs: { label: b.rows.map((r) => (r[0] > 0 ? 1 : 0)) }, id: String(b.time),
  }) + '\n';
  fs.writeFileSync(path.join(dir, `predictions-${batches[rotateAt].time}.jsonl`), batches.slice(0, rotateAt).map(line).join(''));
  fs.writeFileSync(path.join(dir, 'predictions.jsonl'), batches.slice(rotateAt).map(line).join('') + '{"time": 99, "torn');
  return dir;
}

describe('a window of a deployment prediction log', () => {
  it('takes the newest rows across rotated files, names a vector input after the reference columns, judges outputs as prediction drift, skips shadow and torn lines', async () => {
    const root = workspace();
    const gauss = seededGaussian(9);
    const now = Date.now();
    // 40 batches of 50 rows; the last 20 batches are shifted on feature a.
    const batches: { time: number; rows: number[][]; variant?: string }[] = Array.from({ length: 40 }, (_, i) => ({ time: now - (40 - i) * 60_000, rows: Array.from({ length: 50 }, () => [gauss() + (i >= 20 ? 1 : 0), gauss()]) }));
    batches.splice(30, 0, { time: now - 10 * 60_000, rows: [[100, 100]], variant: 'shadow' });
    writeLog(root, 'cancer', batches, 25);
    const refRows = Array.from({ length: 800 }, () => [gauss(), gauss(), gauss() > 0 ? 1 : 0]);
    writeCsv(path.join(root, 'train.csv'), ['a', 'b', 'label'], refRows);

    const last = await driftBetween(root, { reference: 'train.csv', current: 'deployment:cancer', window: '1000' });
    assert.equal(last.current.rows, 1000);
    assert.equal(column(last, 'a').drift, true);
    assert.equal(column(last, 'b').drift, false);
    assert.equal(column(last, 'label').role, 'prediction');
    assert.equal(last.predictionDrift, true, 'more positive labels once a shifted upwards');
    assert.equal(last.dataset.features, 2);

    const early = await driftBetween(root, { reference: 'train.csv', current: 'deployment:cancer', window: '30m' });
    assert.equal(early.current.rows, 29 * 50, 'the last 30 minutes: 29 batches (the one exactly 30 minutes old is out)');
    const old = await driftBetween(root, { reference: 'deployment:cancer', current: 'train.csv', window: '2h' });
    assert.equal(old.reference.rows, 2000, 'shadow records are left out');
  });

  it('reads a large window on a worker thread, its columns sorted there, otherwise as read here; a window with no predictions says so', async () => {
    const root = workspace();
    const gauss = seededGaussian(13);
    const now = Date.now();
    // 12,000 requests of 20 features, one a second: about 6 MB of log, over what is read without a thread.
    const batches = Array.from({ length: 12_000 }, (_, i) => ({ time: now - (12_000 - i) * 1000, rows: [Array.from({ length: 20 }, () => gauss())] }));
    const dir = writeLog(root, 'big', batches, 6_000);
    const options = { window: parseWindow('1d'), featureNames: Array.from({ length: 20 }, (_, i) => `f${i}`) };
    const here = readPredictionWindow(dir, 'deployment big', options);
    const threaded = await readWindow(dir, 'deployment big', options);
    assert.equal(threaded.rows, 12_000);
    assert.deepEqual([threaded.rows, threaded.from, threaded.to, threaded.skippedLines, threaded.predictions], [here.rows, here.from, here.to, here.skippedLines, here.predictions]);
    assert.deepEqual([...threaded.latencies], [...here.latencies]);
    assert.deepEqual([...threaded.columns.keys()], [...here.columns.keys()]);
    for (const [name, c] of threaded.columns) {
      const mine = here.columns.get(name)!;
      assert.ok(c.kind === 'numeric' && mine.kind === 'numeric');
      assert.ok(isSorted(c.values) && !isSorted(mine.values), `${name}: sorted on the thread`);
      assert.deepEqual([...c.values], [...mine.values].sort((a, b) => a - b));
    }
    await assert.rejects(readWindow(dir, 'deployment big', { window: { since: now + 60_000 } }), (err) => err instanceof PredictionLogError && /deployment big: no predictions in the window/.test(err.message));
  });

  it('says so when a deployment has no log', async () => {
    const root = workspace();
    writeCsv(path.join(root, 'train.csv'), ['a'], [[1], [2]]);
    await assert.rejects(driftBetween(root, { reference: 'train.csv', current: 'deployment:nope' }), /deployment nope has no prediction log/);
  });
});

function mlops(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8' });
}

describe('mlops drift', () => {
  const root = workspace();
  const gauss = seededGaussian(21);
  const rows = (shift: number) => Array.from({ length: 600 }, () => [gauss() + shift, gauss() + shift, gauss() > 0 ? 'yes' : 'no']);
  writeCsv(path.join(root, 'ref.csv'), ['x', 'y', 'flag'], rows(0));
  writeCsv(path.join(root, 'same.csv'), ['x', 'y', 'flag'], rows(0));
  writeCsv(path.join(root, 'shifted.csv'), ['x', 'y', 'flag'], rows(0.6));
  fs.writeFileSync(path.join(root, 'shifted.jsonl'), fs.readFileSync(path.join(root, 'shifted.csv'), 'utf8').trim().split('\n').slice(1)
    .map((l) => l.split(',')).map(([x, y, flag]) => JSON.stringify({ x: Number(x), y: Number(y), flag })).join('\n'));

  it('exits 0 without dataset drift and 1 with it; --json holds the per-column verdicts', () => {
    const same = mlops(root, 'drift', 'ref.csv', 'same.csv');
    assert.equal(same.status, 0, same.stderr + same.stdout);
    assert.match(same.stdout, /No dataset drift: 0 of 3 features drifted/);
    const shifted = mlops(root, 'drift', 'ref.csv', 'shifted.jsonl', '--json');
    assert.equal(shifted.status, 1, shifted.stderr);
    const report = JSON.parse(shifted.stdout);
    assert.equal(report.dataset.drift, true);
    assert.deepEqual(report.columns.map((c: ColumnDrift) => [c.column, c.test, c.drift]), [['x', 'ks', true], ['y', 'ks', true], ['flag', 'ztest', false]]);
  });

  it('takes --column-test and mlops.yaml monitoring column tests, the command line winning', () => {
    fs.writeFileSync(path.join(root, 'mlops.yaml'), 'monitoring:\n  column_tests:\n    x: psi\n    y: wasserstein:0.05\n');
    try {
      const r = mlops(root, 'drift', 'ref.csv', 'shifted.csv', '--json', '--column-test', 'x=chisquare:0.01');
      const report = JSON.parse(r.stdout);
      assert.deepEqual(report.columns.map((c: ColumnDrift) => [c.test, c.threshold]), [['chisquare', 0.01], ['wasserstein', 0.05], ['ztest', 0.05]]);
    } finally {
      fs.rmSync(path.join(root, 'mlops.yaml'));
    }
  });

  it('exits 2 with a clear message on unreadable inputs, unknown columns and unknown tests', () => {
    const missing = mlops(root, 'drift', 'ref.csv', 'nothere.csv');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nothere\.csv/);
    const column = mlops(root, 'drift', 'ref.csv', 'same.csv', '--column-test', 'z=ks');
    assert.equal(column.status, 2);
    assert.match(column.stderr, /No column "z".*x, y, flag/);
    const test = mlops(root, 'drift', 'ref.csv', 'same.csv', '--column-test', 'x=anova');
    assert.equal(test.status, 2);
    assert.match(test.stderr, /unknown test "anova"; use one of ks, /);
    fs.writeFileSync(path.join(root, 'bad.csv'), 'x,y\n1,2,3\n');
    const bad = mlops(root, 'drift', 'ref.csv', 'bad.csv');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /bad\.csv is not a well-formed CSV/);
  });
});
