import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AUDIT_MISMATCH_ACTION, AUDIT_REPAIR_ACTION, AuditLog, type AuditVerdict } from '../../src/core/governance/audit';
import { MlopsLayout } from '../../src/core/workspace/layout';
import { tmpWorkspace } from './helpers';

const ZEROS = '0'.repeat(64);
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A workspace whose audit log holds `n` entries. */
function logWith(n: number): AuditLog {
  const log = new AuditLog(tmpWorkspace());
  for (let i = 1; i <= n; i++) log.append(i % 2 ? 'snapshot' : 'register', [`id-${i}`], { n: i, note: `entry ${i}` });
  return log;
}

function lines(log: AuditLog): string[] {
  const text = fs.readFileSync(log.file, 'utf8');
  return text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
}

function writeLines(log: AuditLog, ls: string[]): void {
  fs.writeFileSync(log.file, ls.map((l) => `${l}\n`).join(''));
}

/** Asserts a failed verdict at `line` (and `seq`) of kind `problem`; returns its message. */
function assertBroken(verdict: AuditVerdict, line: number, seq: number | undefined, problem: string): string {
  assert.equal(verdict.ok, false, `expected a broken log, got ${JSON.stringify(verdict)}`);
  if (verdict.ok) throw new Error('unreachable');
  assert.deepEqual({ line: verdict.line, seq: verdict.seq, problem: verdict.problem }, { line, seq, problem }, verdict.message);
  assert.match(verdict.message, new RegExp(`^audit\\.jsonl line ${line}\\b`));
  return verdict.message;
}

describe('audit trail: appending', () => {
  it('builds a hash chain of well-formed entries and an anchor for the last one', () => {
    const log = new AuditLog(tmpWorkspace());
    const returned = [
      log.append('snapshot', ['abc123'], { paths: ['data'], files: 3 }),
      log.append('register', ['model:iris/1', 'abc123', 'run1'], { sha256: 'f'.repeat(64) }),
      log.append('alias', ['model:iris'], { alias: 'champion', from: null, to: 1 }),
      log.append('delete', ['model:iris/1']),
    ];
    const ls = lines(log);
    assert.equal(ls.length, 4);
    assert.equal(fs.readFileSync(log.file, 'utf8').endsWith('\n'), true);
    const parsed = ls.map((l) => JSON.parse(l));
    assert.deepEqual(parsed, returned);
    assert.deepEqual(log.entries(), returned);
    assert.deepEqual(parsed.map((e) => e.seq), [1, 2, 3, 4]);
    assert.equal(parsed[0].prev, ZEROS);
    for (let i = 1; i < ls.length; i++) assert.equal(parsed[i].prev, sha(ls[i - 1]), `entry ${i + 1} records the hash of line ${i}`);
    assert.deepEqual(Object.keys(parsed[0]), ['seq', 'time', 'user', 'action', 'subject', 'details', 'prev']);
    assert.equal(new Date(parsed[0].time).toISOString(), parsed[0].time);
    assert.equal(parsed[0].user, os.userInfo().username);
    assert.deepEqual(parsed[3].details, {});
    assert.deepEqual(JSON.parse(fs.readFileSync(log.headFile, 'utf8')), { count: 4, hash: sha(ls[3]) });
    assert.ok(!fs.existsSync(log.lockFile), 'the lock is released');
    assert.deepEqual(log.verify(), { ok: true, count: 4 });
  });

  it('verifies a missing or empty log as intact with 0 entries, and creates nothing', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-test-'));
    after(() => fs.rmSync(root, { recursive: true, force: true }));
    const log = new AuditLog(new MlopsLayout(root));
    assert.deepEqual(log.verify(), { ok: true, count: 0 });
    assert.deepEqual(log.entries(), []);
    assert.ok(!fs.existsSync(path.join(root, '.mlops')), 'verify does not create .mlops');
    const empty = new AuditLog(tmpWorkspace());
    fs.writeFileSync(empty.file, '');
    assert.deepEqual(empty.verify(), { ok: true, count: 0 });
  });

  it('creates .mlops when it is missing, and keeps newlines in details inside one line', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-test-'));
    after(() => fs.rmSync(root, { recursive: true, force: true }));
    const log = new AuditLog(new MlopsLayout(root));
    log.append('snapshot', ['x'], { message: 'two\nlines', unicode: 'naïve ✓' });
    assert.equal(lines(log).length, 1);
    assert.equal(log.entries()[0].details.message, 'two\nlines');
    assert.deepEqual(log.verify(), { ok: true, count: 1 });
  });

  it('chains from an entry larger than one read of the tail', () => {
    const log = new AuditLog(tmpWorkspace());
    log.append('snapshot', ['a'], { files: Array.from({ length: 3000 }, (_, i) => `data/file-${i}.csv`) });
    log.append('snapshot', ['b'], { blob: 'x'.repeat(40_000) });
    log.append('tag', ['b'], { tag: 'v1' });
    assert.ok(fs.statSync(log.file).size > 80_000);
    assert.deepEqual(log.verify(), { ok: true, count: 3 });
  });

  it('refuses a subject that is not a list of ids, before writing anything', () => {
    const log = new AuditLog(tmpWorkspace());
    assert.throws(() => log.append('tag', 'abc' as unknown as string[]), /subject of audit action "tag" must be a list of ids/);
    assert.throws(() => log.append('tag', ['a'], { big: 1n }), /BigInt/);
    assert.ok(!fs.existsSync(log.file));
  });
});

describe('audit trail: verify names the first tampered entry', () => {
  it('an edited middle entry (its details changed)', () => {
    const log = logWith(8);
    const ls = lines(log);
    ls[3] = ls[3].replace('"note":"entry 4"', '"note":"entry 4 (amended)"');
    writeLines(log, ls);
    const message = assertBroken(log.verify(), 4, 4, 'edited');
    assert.equal(message, 'audit.jsonl line 4 (seq 4): the entry was edited after it was written (its hash no longer matches what the next entry, line 5 seq 5, recorded).');
  });

  it('the last entry edited (caught by the anchor)', () => {
    const log = logWith(8);
    const ls = lines(log);
    ls[7] = ls[7].replace('"id-8"', '"id-X"');
    writeLines(log, ls);
    const message = assertBroken(log.verify(), 8, 8, 'edited');
    assert.match(message, /line 8 \(seq 8\): the entry was edited after it was written \(its hash no longer matches the one audit\.head recorded/);
  });

  it('the first entry edited', () => {
    const log = logWith(3);
    const ls = lines(log);
    ls[0] = ls[0].replace('"n":1', '"n":100');
    writeLines(log, ls);
    assertBroken(log.verify(), 1, 1, 'edited');
  });

  it('an entry whose recorded previous hash was rewritten', () => {
    const log = logWith(6);
    const ls = lines(log);
    ls[2] = ls[2].replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${'a'.repeat(64)}"`);
    writeLines(log, ls);
    assert.match(assertBroken(log.verify(), 3, 3, 'edited'), /edited or replaced/);
  });

  it('a dropped middle entry', () => {
    const log = logWith(8);
    const ls = lines(log);
    ls.splice(3, 1);
    writeLines(log, ls);
    const message = assertBroken(log.verify(), 4, 4, 'dropped');
    assert.match(message, /entry seq 4 was dropped: seq 3 \(line 3\) is followed by seq 5/);
  });

  it('several dropped entries, and the first entry dropped', () => {
    const log = logWith(8);
    const ls = lines(log);
    writeLines(log, [...ls.slice(0, 2), ...ls.slice(5)]);
    assert.match(assertBroken(log.verify(), 3, 3, 'dropped'), /entries seq 3–5 were dropped/);
    writeLines(log, ls.slice(1));
    assert.match(assertBroken(log.verify(), 1, 1, 'dropped'), /entry seq 1 was dropped: the log starts by seq 2/);
  });

  it('the last entry dropped (caught by the anchor)', () => {
    const log = logWith(8);
    writeLines(log, lines(log).slice(0, 7));
    const message = assertBroken(log.verify(), 8, 8, 'dropped');
    assert.match(message, /the last entry dropped: entry seq 8 was recorded in audit\.head, but the file ends at line 7 \(seq 7\)/);
  });

  it('the whole log deleted while audit.head remains', () => {
    const log = logWith(3);
    fs.rmSync(log.file);
    assert.match(assertBroken(log.verify(), 1, 1, 'dropped'), /entries seq 1–3 were recorded in audit\.head, but the file is empty/);
  });

  it('a forged entry inserted in the middle, chained to the entry before it', () => {
    const log = logWith(8);
    const ls = lines(log);
    const forged = JSON.stringify({ seq: 4, time: new Date().toISOString(), user: 'mallory', action: 'alias', subject: ['model:iris'], details: { alias: 'champion', to: 9 }, prev: sha(ls[2]) });
    ls.splice(3, 0, forged);
    writeLines(log, ls);
    const message = assertBroken(log.verify(), 4, 4, 'inserted');
    assert.match(message, /line 4 \(seq 4\): the entry was inserted: the entry at line 5 \(seq 4\) records seq 3 as the entry directly before it/);
  });

  it('a forged entry inserted before the first one', () => {
    const log = logWith(4);
    const ls = lines(log);
    ls.unshift(JSON.stringify({ seq: 1, time: new Date().toISOString(), user: 'mallory', action: 'register', subject: ['model:x/1'], details: {}, prev: ZEROS }));
    writeLines(log, ls);
    assert.match(assertBroken(log.verify(), 1, 1, 'inserted'), /records the start of the log as the entry directly before it/);
  });

  it('a carelessly forged entry inserted in the middle', () => {
    const log = logWith(8);
    const ls = lines(log);
    ls.splice(5, 0, JSON.stringify({ seq: 42, time: 'yesterday', user: 'mallory', action: 'delete', subject: [], details: {}, prev: 'b'.repeat(64) }));
    writeLines(log, ls);
    assert.match(assertBroken(log.verify(), 6, 42, 'inserted'), /not part of the chain/);
  });

  it('an earlier entry copied (replayed) further down', () => {
    const log = logWith(8);
    const ls = lines(log);
    ls.splice(6, 0, ls[2]);
    writeLines(log, ls);
    assert.match(assertBroken(log.verify(), 7, 3, 'inserted'), /a copy of line 3/);
  });

  it('two entries swapped', () => {
    const log = logWith(8);
    const ls = lines(log);
    [ls[3], ls[4]] = [ls[4], ls[3]];
    writeLines(log, ls);
    const message = assertBroken(log.verify(), 4, 5, 'reordered');
    assert.match(message, /line 4 \(seq 5\): the entry is out of order: it was written right after seq 4, which is now further down at line 5/);
  });

  it('an entry moved far down, and one moved up', () => {
    const log = logWith(8);
    const ls = lines(log);
    const down = [...ls];
    down.splice(6, 0, ...down.splice(1, 1)); // seq 2 now after seq 7
    writeLines(log, down);
    assertBroken(log.verify(), 2, 3, 'reordered');
    const up = [...ls];
    up.splice(1, 0, ...up.splice(6, 1)); // seq 7 now after seq 1
    writeLines(log, up);
    assertBroken(log.verify(), 2, 7, 'reordered');
  });

  it('a garbage line, an empty line, and JSON that is not an entry', () => {
    const log = logWith(6);
    const ls = lines(log);
    writeLines(log, [...ls.slice(0, 3), 'this is not json', ...ls.slice(3)]);
    assert.match(assertBroken(log.verify(), 4, undefined, 'unreadable'), /line 4: the line is not a readable audit entry \(it is not JSON: .*\); it was written or changed outside/);
    writeLines(log, [...ls.slice(0, 2), '', ...ls.slice(2)]);
    assert.match(assertBroken(log.verify(), 3, undefined, 'unreadable'), /\(it is empty\)/);
    const noPrev = JSON.parse(ls[4]) as Record<string, unknown>;
    delete noPrev.prev;
    writeLines(log, [...ls.slice(0, 4), JSON.stringify(noPrev), ...ls.slice(5)]);
    assert.match(assertBroken(log.verify(), 5, 5, 'unreadable'), /it is JSON but not an audit entry \(no "prev"\)/);
  });

  it('a truncated final line', () => {
    const log = logWith(8);
    const size = fs.statSync(log.file).size;
    fs.truncateSync(log.file, size - 25);
    const message = assertBroken(log.verify(), 8, 8, 'truncated');
    assert.match(message, /the last line is cut off \(\d+ bytes, no newline\): the entry was truncated after it was written/);
    assert.equal(log.entries().length, 7, 'entries() skips the cut-off line');
  });

  it('only the first problem is named when there are several', () => {
    const log = logWith(8);
    const ls = lines(log);
    ls[1] = ls[1].replace('"n":2', '"n":20');
    ls.splice(5, 1);
    ls.push('garbage');
    writeLines(log, ls);
    assertBroken(log.verify(), 2, 2, 'edited');
  });
});

describe('audit trail: crashes, and appending after damage', () => {
  it('an append cut off by a crash is reported, then removed and recorded by the next append', () => {
    const log = logWith(4);
    const partial = '{"seq":5,"time":"2025-01-01T00:00:00.000Z","user":"x","act';
    fs.appendFileSync(log.file, partial); // the anchor still names seq 4
    assert.match(assertBroken(log.verify(), 5, 5, 'truncated'), /an append was interrupted before it finished \(audit\.head never included it\)/);
    const entry = log.append('tag', ['abc'], { tag: 'v1' });
    assert.equal(entry.seq, 6);
    assert.deepEqual(log.verify(), { ok: true, count: 6 });
    const repair = log.entries()[4];
    assert.equal(repair.action, AUDIT_REPAIR_ACTION);
    assert.equal(repair.seq, 5);
    assert.equal(repair.details.removed, partial);
  });

  it('an entry whose newline never reached the disk is completed, not removed', () => {
    const log = logWith(3);
    const ls = lines(log);
    const whole = JSON.stringify({ seq: 4, time: new Date().toISOString(), user: 'u', action: 'tag', subject: ['a'], details: {}, prev: sha(ls[2]) });
    fs.appendFileSync(log.file, whole);
    assertBroken(log.verify(), 4, 4, 'truncated');
    log.append('tag', ['b']);
    assert.deepEqual(log.verify(), { ok: true, count: 5 });
    assert.deepEqual(log.entries().map((e) => e.action), ['snapshot', 'register', 'snapshot', 'tag', 'tag']);
  });

  it('a crash between writing an entry and updating audit.head is accepted, and the next append catches up', () => {
    const log = logWith(3);
    const head = fs.readFileSync(log.headFile);
    log.append('tag', ['abc']);
    fs.writeFileSync(log.headFile, head); // audit.head one entry behind
    assert.deepEqual(log.verify(), { ok: true, count: 4 });
    log.append('tag', ['def']);
    assert.deepEqual(log.verify(), { ok: true, count: 5 });
    assert.ok(log.entries().every((e) => e.action !== AUDIT_MISMATCH_ACTION));
  });

  it('a crash before the very first audit.head was written is accepted', () => {
    const log = logWith(1);
    fs.rmSync(log.headFile);
    assert.deepEqual(log.verify(), { ok: true, count: 1 });
  });

  it('appending after the last entry was edited does not hide the edit', () => {
    const log = logWith(5);
    const ls = lines(log);
    ls[4] = ls[4].replace('"id-5"', '"id-6"');
    writeLines(log, ls);
    log.append('snapshot', ['later']);
    log.append('snapshot', ['later still']);
    const message = assertBroken(log.verify(), 5, 5, 'edited');
    assert.match(message, /found when the entry at line 6, seq 6, was appended/);
    assert.equal(log.entries()[5].action, AUDIT_MISMATCH_ACTION);
  });

  it('appending after the last entry was dropped does not hide the drop', () => {
    const log = logWith(5);
    writeLines(log, lines(log).slice(0, 4));
    const entry = log.append('snapshot', ['later']);
    assert.equal(entry.seq, 7, 'seq continues after the dropped one');
    assert.match(assertBroken(log.verify(), 5, 5, 'dropped'), /entry seq 5 was recorded in audit\.head, but the file ends at line 4 \(seq 4\).*found when/);
  });

  it('appending after the last entry was cut off keeps the damaged line as evidence', () => {
    const log = logWith(5);
    fs.truncateSync(log.file, fs.statSync(log.file).size - 30);
    log.append('snapshot', ['later']);
    assert.equal(lines(log).length, 7);
    assertBroken(log.verify(), 5, 5, 'unreadable');
  });

  it('a deleted audit.head is reported, and appending afterwards does not hide it', () => {
    const log = logWith(4);
    fs.rmSync(log.headFile);
    const message = assertBroken(log.verify(), 4, 4, 'unreadable');
    assert.match(message, /audit\.head is missing, and it is what vouches for the last entry/);
    log.append('snapshot', ['later']);
    assert.match(assertBroken(log.verify(), 4, 4, 'unreadable'), /audit\.head is missing.*found when the entry at line 5/);
  });

  it('only a removed newline, restored by the next append, leaves the log intact', () => {
    const log = logWith(4);
    fs.truncateSync(log.file, fs.statSync(log.file).size - 1);
    assertBroken(log.verify(), 4, 4, 'truncated');
    log.append('tag', ['x']);
    assert.deepEqual(log.verify(), { ok: true, count: 6 });
  });
});

describe('audit trail: several processes appending at once', () => {
  it('4 processes × 50 appends give one valid chain of 200 entries with unique seqs', async () => {
    const layout = tmpWorkspace();
    const auditJs = path.resolve(__dirname, '..', '..', 'src', 'core', 'governance', 'audit.js');
    const layoutJs = path.resolve(__dirname, '..', '..', 'src', 'core', 'workspace', 'layout.js');
    const startAt = Date.now() + 700;
    const script = `
      const { AuditLog } = require(${JSON.stringify(auditJs)});
      const { MlopsLayout } = require(${JSON.stringify(layoutJs)});
      const [root, worker, startAt] = process.argv.slice(1);
      const log = new AuditLog(new MlopsLayout(root));
      while (Date.now() < Number(startAt)) {}
      for (let i = 0; i < 50; i++) log.append('snapshot', ['w' + worker + '-' + i], { worker: Number(worker), i });
    `;
    const exits = await Promise.all([0, 1, 2, 3].map((w) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['-e', script, layout.root, String(w), String(startAt)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    })));
    for (const exit of exits) assert.equal(exit.code, 0, exit.stderr);
    const log = new AuditLog(layout);
    assert.deepEqual(log.verify(), { ok: true, count: 200 });
    const entries = log.entries();
    assert.deepEqual(entries.map((e) => e.seq), Array.from({ length: 200 }, (_, i) => i + 1));
    assert.equal(new Set(entries.map((e) => e.subject[0])).size, 200);
    for (let w = 0; w < 4; w++) {
      const mine = entries.filter((e) => e.details.worker === w).map((e) => e.details.i);
      assert.deepEqual(mine, Array.from({ length: 50 }, (_, i) => i), `worker ${w}'s entries are all there, in its order`);
    }
    assert.ok(entries.every((e) => e.action === 'snapshot'), 'no process saw a damaged tail');
    assert.ok(!fs.existsSync(log.lockFile));
  });

  it('takes over a lock left by a process that died, or whose pid now belongs to another process', () => {
    const log = new AuditLog(tmpWorkspace(), { lockTimeoutMs: 2000 });
    const dead = spawnSync('true').pid!;
    fs.writeFileSync(log.lockFile, JSON.stringify({ pid: dead, host: os.hostname(), since: Date.now(), token: 't' }));
    log.append('tag', ['a']);
    if (fs.existsSync('/proc/self/stat')) {
      fs.writeFileSync(log.lockFile, JSON.stringify({ pid: process.pid, host: os.hostname(), since: Date.now(), token: 't', start: '1' }));
      log.append('tag', ['b']);
    }
    assert.ok(!fs.existsSync(log.lockFile));
    assert.equal(log.verify().ok, true);
  });

  it('waits for a live holder, then fails with a message naming it and the fix', () => {
    const log = new AuditLog(tmpWorkspace(), { lockTimeoutMs: 150 });
    fs.writeFileSync(log.lockFile, JSON.stringify({ pid: process.pid, host: os.hostname(), since: Date.now(), token: 't' }));
    const started = Date.now();
    assert.throws(() => log.append('tag', ['a']), new RegExp(`audit\\.jsonl\\.lock is held by process ${process.pid} on ${os.hostname()} since .*\\. If no MLOps process is running, delete that file and try again\\.`));
    assert.ok(Date.now() - started >= 150);
    assert.ok(!fs.existsSync(log.file), 'nothing was written');
    fs.rmSync(log.lockFile);
    log.append('tag', ['a']);
    assert.deepEqual(log.verify(), { ok: true, count: 1 });
  });
});
