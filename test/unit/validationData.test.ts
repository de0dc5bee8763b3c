import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { after, describe, it } from 'node:test';
import { Project } from '../../src/core/project';
import { SnapshotStore } from '../../src/core/snapshots';
import { ibanValid, luhnValid, personalDataKind } from '../../src/core/validation/personalData';
import { checkDataSource, profileData } from '../../src/core/validation/profiles';
import { gammaQ } from '../../src/core/validation/special';
import { chiSquare, driftTest, jensenShannon, ksTwoSample, normalisedWasserstein, proportionsZTest, psi, wasserstein } from '../../src/core/validation/statistics';
import { seededGaussian } from '../../src/core/validation/random';
import { cliPath, tmpWorkspace } from './helpers';
import { bareRemote, gitCli, startGitHttpServer } from './snapshotHelpers';
import { breastCancerRows, FEATURES, python, writeCsv } from './validationHelpers';

const OWNERS = ['team-a', 'team-b', 'team-c'];

/** Breast-cancer rows with a categorical column and a free-text column; `bad` changes cells after the fact. */
function writeData(file: string, rows: number[][], bad: (row: (string | number)[], i: number) => void = () => {}): string {
  const out = rows.map((r, i) => {
    const row: (string | number)[] = [...r.slice(0, 30), OWNERS[i % 3], `note ${i}`, r[30]];
    bad(row, i);
    return row;
  });
  return writeCsv(file, [...FEATURES, 'owner', 'contact', 'target'], out);
}

describe('data checks', () => {
  const all = breastCancerRows();
  const clean = all.filter((_, i) => i % 2 === 0);

  it('a profile infers types, ranges, missing shares, categories and quantiles, saved beside the file', async () => {
    const ws = tmpWorkspace();
    const file = writeData(path.join(ws.root, 'train.csv'), all, (row, i) => { if (i < 57) row[1] = ''; });
    const { profile, file: saved } = await profileData(ws, undefined, 'train.csv');
    assert.equal(saved, `${file}.profile.json`);
    assert.ok(fs.existsSync(saved));
    assert.equal(profile.rows, 569);
    const col = (name: string) => profile.columns.find((c) => c.name === name)!;
    assert.equal(col('f00').type, 'number');
    assert.equal(col('f00').min, Math.min(...all.map((r) => r[0])));
    assert.equal(col('f00').max, Math.max(...all.map((r) => r[0])));
    assert.equal(col('f01').missing, 57);
    assert.equal(col('target').type, 'integer');
    assert.deepEqual(Object.keys(col('owner').categories!).sort(), OWNERS);
    assert.equal(col('owner').type, 'string');
    assert.equal(col('contact').distinctCapped, true);
    const q = python<number[]>('import numpy as np\nprint(json.dumps([float(np.quantile(data, q)) for q in (0.01, 0.5, 0.99)]))', all.map((r) => r[3]));
    assert.deepEqual([col('f03').quantiles!['0.01'], col('f03').quantiles!['0.5'], col('f03').quantiles!['0.99']].map((v) => +v.toPrecision(12)), q.map((v) => +v.toPrecision(12)));
  });

  it('clean data from the same population passes', async () => {
    const ws = tmpWorkspace();
    writeData(path.join(ws.root, 'train.csv'), all);
    writeData(path.join(ws.root, 'new.csv'), clean);
    const report = await checkDataSource(ws, undefined, 'new.csv', 'train.csv');
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
    assert.equal(report.skew.length, 32, 'every numeric and categorical column is tested for skew');
  });

  it('catches each injected violation: wrong type, out of range, new category, e-mail column, missing-share jump, skew', async () => {
    const ws = tmpWorkspace();
    writeData(path.join(ws.root, 'train.csv'), all);
    writeData(path.join(ws.root, 'bad.csv'), clean, (row, i) => {
      if (i === 3) row[0] = 'abc';
      if (i === 5) row[2] = 1e6;
      if (i === 7) row[30] = 'team-z';
      row[31] = `person${i}@example.org`;
      if (i % 3 === 0) row[4] = '';
      row[5] = Number(row[5]) * 3;
    });
    const report = await checkDataSource(ws, undefined, 'bad.csv', 'train.csv');
    const found = new Set(report.problems.map((p) => `${p.column}:${p.kind}`));
    for (const expected of ['f00:type', 'f02:range', 'owner:new-category', 'contact:personal-data', 'f04:missing-share', 'f05:skew']) {
      assert.ok(found.has(expected), `expected ${expected} among ${[...found].join(', ')}`);
    }
    assert.equal(report.ok, false);
    assert.match(report.problems.find((p) => p.kind === 'type')!.message, /"abc"/);
    assert.ok(!report.problems.some((p) => p.message.includes('person1@example.org')), 'reports mask the personal data they found');
  });

  it('mlops data check exits 0 on clean data and 1 naming each problem', () => {
    const ws = tmpWorkspace();
    writeData(path.join(ws.root, 'train.csv'), all);
    writeData(path.join(ws.root, 'new.csv'), clean);
    writeData(path.join(ws.root, 'bad.csv'), clean, (row, i) => { if (i === 2) row[30] = 'team-q'; });
    const run = (...args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { cwd: ws.root, encoding: 'utf8' });
    const ok = run('data', 'check', 'new.csv', '--against', 'train.csv');
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /✓ new\.csv against train\.csv: 285 rows, no problems found/);
    const bad = run('data', 'check', 'bad.csv', '--against', 'train.csv');
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /owner\s+new-category\s+1 category the reference never had: "team-q"/);
  });

  it('profiles and checks JSON Lines, folders and snapshots', async () => {
    const ws = tmpWorkspace();
    fs.mkdirSync(path.join(ws.root, 'data'));
    writeData(path.join(ws.root, 'data', 'part1.csv'), all.slice(0, 300));
    writeData(path.join(ws.root, 'data', 'part2.csv'), all.slice(300));
    const folder = await profileData(ws, undefined, 'data');
    assert.equal(folder.profile.rows, 569);
    const snapshots = await SnapshotStore.open(ws);
    const snap = await snapshots.snapshot(['data'], { message: 'data' });
    const fromSnapshot = await profileData(ws, snapshots, snap.id.slice(0, 12));
    assert.equal(fromSnapshot.profile.rows, 569);
    assert.ok(fromSnapshot.file.startsWith(path.join(ws.dir, 'profiles')));
    const jsonl = path.join(ws.root, 'new.jsonl');
    fs.writeFileSync(jsonl, clean.map((r, i) => JSON.stringify({ ...Object.fromEntries(FEATURES.map((f, j) => [f, r[j]])), owner: OWNERS[i % 3], contact: `+49 30 1234${String(i).padStart(4, '0')}`, target: r[30] })).join('\n'));
    const report = await checkDataSource(ws, snapshots, 'new.jsonl', snap.id);
    assert.deepEqual(report.problems.map((p) => `${p.column}:${p.kind}`), ['contact:personal-data']);
    assert.match(report.problems[0].message, /phone numbers/);
  });

  it('a malformed file is a clear error naming it', async () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'broken.csv'), 'a,b\n1,2\n3\n');
    await assert.rejects(profileData(ws, undefined, 'broken.csv'), /broken\.csv is not a well-formed CSV file/);
    await assert.rejects(profileData(ws, undefined, 'nothing.csv'), /nothing\.csv: no such file or folder/);
  });
});

describe('personal data before a push', () => {
  it('a push of snapshots holding e-mail addresses is refused until allowed, and the allowance is audited (real git http-backend)', async () => {
    const remotes = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-remotes-'));
    const server = await startGitHttpServer(remotes);
    after(async () => {
      await server.close();
      fs.rmSync(remotes, { recursive: true, force: true });
    });
    const remoteDir = bareRemote(remotes, 'shared.git');
    const ws = tmpWorkspace();
    fs.mkdirSync(path.join(ws.root, 'data'));
    writeCsv(path.join(ws.root, 'data', 'customers.csv'), ['id', 'email', 'spend'], Array.from({ length: 40 }, (_, i) => [i, `customer${i}@example.com`, i * 3]));
    const project = await Project.open(ws.root);
    try {
      await project.snapshot(['data'], { message: 'customers' });
      await assert.rejects(project.push(server.url('shared.git')), /customers\.csv \(snapshot [0-9a-f]{12}\) column "email": email[\s\S]*--allow-personal-data/);
      assert.throws(() => gitCli(['rev-parse', '--verify', 'refs/heads/snapshots'], remoteDir), 'nothing reached the remote');
      await project.push(server.url('shared.git'), undefined, { allowPersonalData: true });
      assert.match(gitCli(['rev-parse', 'refs/heads/snapshots'], remoteDir), /^[0-9a-f]{40}/);
      const audit = fs.readFileSync(path.join(ws.dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(audit.find((a) => a.action === 'push').details.personalData, ['data/customers.csv:email (email)']);
    } finally {
      project.close();
    }
  });
});

describe('personal data', () => {
  it('recognises e-mail, phone, Luhn-valid card numbers, IBANs and IP addresses, and not look-alikes', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(ibanValid('DE89370400440532013000'), true);
    assert.equal(ibanValid('DE89370400440532013001'), false);
    const kinds = ['ann@example.com', '+44 20 7946 0958', '(555) 123-4567', '4111 1111 1111 1111', 'GB82 WEST 1234 5698 7654 32', '192.168.0.12', '2001:db8::1'].map(personalDataKind);
    assert.deepEqual(kinds, ['email', 'phone', 'phone', 'card', 'iban', 'ip', 'ip']);
    const none = ['4111 1111 1111 1112', '2024-01-02', '12.5', 'hello world', 'DE89370400440532013001', '999.1.1.1', 'a@b'].map(personalDataKind);
    assert.deepEqual(none, none.map(() => undefined));
  });
});

describe('distribution tests equal scipy', () => {
  const gauss = seededGaussian(7);
  const sample = (n: number, shift: number) => Float64Array.from({ length: n }, () => gauss() + shift);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs scipy ${b}`);

  it('KS (exact p-values, equal and unequal sizes), Wasserstein, chi-square, z-test, Jensen–Shannon, PSI, incomplete gamma', () => {
    const cases = [[sample(200, 0), sample(200, 0.2)], [sample(300, 0), sample(170, 0.1)], [sample(1000, 0), sample(400, 0.5)]];
    const ref = new Map([['a', 50], ['b', 30], ['c', 20]]), cur = new Map([['a', 30], ['b', 40], ['c', 25], ['d', 0]]);
    const sp = python<{ ks: number[][]; w: number[]; chi: number[]; js: number; z: number; g: number[] }>(`
from scipy import stats, special
from scipy.spatial.distance import jensenshannon
import numpy as np
ks = [list(stats.ks_2samp(a, b)) for a, b in data['cases']]
w = [stats.wasserstein_distance(a, b) / max(np.std(a), 0.001) for a, b in data['cases']]
chi = list(stats.chisquare([30, 40, 25], [50 * 95 / 100, 30 * 95 / 100, 20 * 95 / 100]))
js = jensenshannon([0.5, 0.3, 0.2], [0.3, 0.4, 0.3])
n1, n2, p1, p2 = 100, 95, 0.5, 30 / 95
P = (p1 * n1 + p2 * n2) / (n1 + n2)
z = (p1 - p2) / np.sqrt(P * (1 - P) * (1 / n1 + 1 / n2))
print(json.dumps({'ks': ks, 'w': w, 'chi': chi, 'js': js, 'z': 2 * stats.norm.sf(abs(z)), 'g': [special.gammaincc(a, x) for a, x in [(0.5, 0.3), (2.5, 7.1), (10, 3), (1.5, 40)]]}))
`, { cases: cases.map(([a, b]) => [[...a], [...b]]) });
    cases.forEach(([a, b], i) => {
      const ks = ksTwoSample(a, b);
      close(ks.statistic, sp.ks[i][0], `KS statistic ${i}`);
      close(ks.pValue, sp.ks[i][1], `KS p-value ${i}`);
      close(normalisedWasserstein(a, b), sp.w[i], `Wasserstein ${i}`);
    });
    const chi = chiSquare(ref, cur);
    close(chi.statistic, sp.chi[0], 'chi-square statistic');
    close(chi.pValue, sp.chi[1], 'chi-square p-value');
    close(jensenShannon(Float64Array.of(0.5, 0.3, 0.2), Float64Array.of(0.3, 0.4, 0.3)), sp.js, 'Jensen–Shannon');
    close(proportionsZTest(new Map([['a', 50], ['b', 50]]), new Map([['a', 30], ['b', 65]])).pValue, sp.z, 'z-test p-value');
    [[0.5, 0.3], [2.5, 7.1], [10, 3], [1.5, 40]].forEach(([a, x], i) => close(gammaQ(a, x), sp.g[i], `Q(${a}, ${x})`));
    assert.ok(Math.abs(wasserstein(Float64Array.of(0, 1), Float64Array.of(5, 6)) - 5) < 1e-12);
    close(psi(Float64Array.of(0.5, 0.5, 0), Float64Array.of(0.25, 0.25, 0.5)), 0.5 * Math.log(2) + (0.0001 - 0.5) * Math.log(0.0001 / 0.5), 'PSI with a floored empty bin');
  });

  it('picks the test the drift defaults name, and flags a shifted column but not an unshifted one', () => {
    const numeric = (v: Float64Array) => ({ kind: 'numeric' as const, values: v });
    assert.equal(driftTest(numeric(sample(500, 0)), numeric(sample(500, 0))).test, 'ks');
    assert.equal(driftTest(numeric(sample(2000, 0)), numeric(sample(500, 0))).test, 'wasserstein');
    assert.equal(driftTest(numeric(sample(500, 0)), numeric(sample(500, 0)), { referenceRows: 5000 }).test, 'wasserstein');
    const cat = (m: [string, number][]) => ({ kind: 'categorical' as const, counts: new Map(m) });
    assert.equal(driftTest(cat([['x', 10], ['y', 5], ['z', 3]]), cat([['x', 10], ['y', 5]])).test, 'chisquare');
    assert.equal(driftTest(cat([['x', 10], ['y', 5]]), cat([['x', 10], ['y', 5]])).test, 'ztest');
    assert.equal(driftTest(cat([['x', 1000], ['y', 500]]), cat([['x', 10], ['y', 5]])).test, 'jensenshannon');
    assert.equal(driftTest(numeric(sample(800, 0)), numeric(sample(800, 0))).drift, false);
    assert.equal(driftTest(numeric(sample(800, 0)), numeric(sample(800, 0.5))).drift, true);
  });
});
