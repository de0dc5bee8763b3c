import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/governance/audit';
import { ExperimentLog, experimentsFile } from '../../src/core/mlflow/experiments';
import { Project } from '../../src/core/project';
import { appendEvents } from '../../src/core/tracking/eventWriter';
import { Tracking } from '../../src/core/tracking/tracking';
import { onDamagedLog, type LogDamage } from '../../src/core/workspace/appendLog';
import { cliPath, metricEvents, tmpWorkspace, writeRun } from './helpers';

/** What a crash leaves at the end of a log: half a line, or the NUL bytes of a block whose data never reached the disk. */
const TAILS = {
  torn: Buffer.from('{"type":"metric","time":1700000000000,"key":"loss","val'),
  NUL: Buffer.alloc(4096),
};

/** Damage reports heard while a test runs. */
function hearDamage(): LogDamage[] {
  const heard: LogDamage[] = [];
  after(onDamagedLog((d) => heard.push(d)));
  return heard;
}

/** Leaves `tail` at the end of `file`, as a crash did a while ago (not a write still under way). */
function crashLeft(file: string, tail: Buffer): void {
  fs.appendFileSync(file, tail);
  const old = new Date(Date.now() - 10_000);
  fs.utimesSync(file, old, old);
}

function assertMovedAside(file: string, tail: Buffer, heard: LogDamage[]): void {
  assert.ok(fs.readFileSync(file).at(-1) === 0x0a, `${path.basename(file)} ends with a whole line`);
  for (const line of fs.readFileSync(file, 'utf8').trimEnd().split('\n')) JSON.parse(line); // every line whole: the damaged bytes are gone
  assert.deepEqual(fs.readFileSync(`${file}.damaged`), Buffer.concat([tail, Buffer.from('\n')]), 'the damaged bytes are kept beside the log');
  const reports = heard.filter((d) => d.file === file && /moved it to/.test(d.message));
  assert.equal(reports.length, 1, 'the move is reported once');
  assert.match(reports[0].message, new RegExp(`${path.basename(file)}:\\d+: the last line was cut off .*moved it to .*\\.damaged`));
}

for (const [kind, tail] of Object.entries(TAILS)) {
  describe(`appending after a ${kind} tail`, () => {
    it('events.jsonl: the next event lands on its own line, and a reindex keeps it and every event before', async () => {
      const heard = hearDamage();
      const layout = tmpWorkspace();
      const runId = writeRun(layout, metricEvents('loss', 5));
      const file = layout.eventsFile(runId);
      crashLeft(file, tail);
      appendEvents(file, metricEvents('loss', 5, 5));
      appendEvents(file, [{ type: 'run_end', status: 'FINISHED', exit_code: 0 }]);
      assertMovedAside(file, tail, heard);
      const messages: string[] = [];
      const tracking = await Tracking.open(layout.root, { onMessage: (m) => messages.push(m) });
      try {
        await tracking.reindex();
        const run = tracking.getRun(runId)!;
        assert.equal(run.status, 'FINISHED');
        assert.equal(tracking.metricHistory(runId, 'loss').values.length, 10);
        assert.deepEqual(messages.filter((m) => /skipped|not valid/.test(m)), []);
      } finally {
        tracking.close();
      }
    });

    it('registry.jsonl: an alias move after it takes effect (the champion really moves) and is audited', async () => {
      const heard = hearDamage();
      const layout = tmpWorkspace();
      const p = await Project.open(layout.root);
      try {
        for (const w of [1, 2]) {
          fs.writeFileSync(path.join(layout.root, 'model.json'), `{"w": [${w}]}`);
          await p.registerModel('churn', 'model.json');
        }
        p.registry.setAlias('churn', 'champion', 1);
        crashLeft(p.registry.file, tail);
        p.registry.setAlias('churn', 'champion', 2);
        assert.equal(p.registry.version('churn', 'champion').version, 2);
        assert.deepEqual(p.audit.entries().filter((e) => e.action === 'alias').map((e) => e.details.to), [1, 2]);
        assertMovedAside(p.registry.file, tail, heard);
        fs.writeFileSync(path.join(layout.root, 'model.json'), '{"w": [3]}');
        assert.equal((await p.registerModel('churn', 'model.json')).version, 3, 'the next version number follows');
      } finally {
        p.close();
      }
    });

    it('audit.jsonl: the next entry chains on, the chain verifies, the damaged bytes are kept', () => {
      const heard = hearDamage();
      const layout = tmpWorkspace();
      const log = new AuditLog(layout);
      log.append('snapshot', ['a']);
      log.append('snapshot', ['b']);
      crashLeft(log.file, tail);
      log.append('tag', ['c']);
      assert.deepEqual(log.verify(), { ok: true, count: 4 }, 'b, a repair entry naming the removed bytes, c');
      assert.deepEqual(log.entries().map((e) => e.action), ['snapshot', 'snapshot', 'audit.repair', 'tag']);
      assertMovedAside(log.file, tail, heard);
    });

    it('experiments.jsonl: experiments created after it are all there when the log is read again', () => {
      const heard = hearDamage();
      const layout = tmpWorkspace();
      const file = experimentsFile(layout);
      new ExperimentLog(file).create('first');
      crashLeft(file, tail);
      new ExperimentLog(file).create('second');
      const reread = new ExperimentLog(file);
      assert.deepEqual(reread.list().map((e) => e.name), ['Default', 'first', 'second']);
      assert.deepEqual(reread.warnings, []);
      assertMovedAside(file, tail, heard);
    });
  });
}

describe('several writers at once', () => {
  it('3 Node and 3 Python processes appending multi-page records to one log: every record whole, nothing moved aside', async () => {
    const layout = tmpWorkspace();
    const file = path.join(layout.dir, 'shared.jsonl');
    const appendLogJs = path.resolve(__dirname, '..', '..', 'src', 'core', 'workspace', 'appendLog.js');
    const pythonDir = path.resolve(__dirname, '..', '..', '..', 'python');
    const startAt = Date.now() + 1500;
    const record = (who: string, i: number) => `${JSON.stringify({ who, i, pad: 'x'.repeat(6000 + (i % 7) * 1000) })}\n`;
    const node = `
      const { appendRecord } = require(${JSON.stringify(appendLogJs)});
      const [file, who, startAt] = process.argv.slice(1);
      while (Date.now() < Number(startAt)) {}
      for (let i = 0; i < 100; i++) appendRecord(file, JSON.stringify({ who, i, pad: 'x'.repeat(6000 + (i % 7) * 1000) }) + '\\n');
    `;
    const python = [
      'import json, sys, time',
      `sys.path.insert(0, ${JSON.stringify(pythonDir)})`,
      'from mlops_workbench import _events',
      'path, who, start = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000',
      'while time.time() < start: pass',
      'for i in range(100):',
      '    _events.append_bytes(path, (json.dumps({"who": who, "i": i, "pad": "x" * (6000 + (i % 7) * 1000)}, separators=(",", ":")) + "\\n").encode())',
    ].join('\n');
    const writers = [
      ...['n0', 'n1', 'n2'].map((who) => [process.execPath, '-e', node, file, who, String(startAt)]),
      ...['p0', 'p1', 'p2'].map((who) => ['/usr/bin/python3', '-c', python, file, who, String(startAt)]),
    ];
    const exits = await Promise.all(writers.map(([cmd, ...args]) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    })));
    for (const exit of exits) assert.equal(exit.code, 0, exit.stderr);
    for (const exit of exits) assert.doesNotMatch(exit.stderr, /cut off/);
    assert.ok(!fs.existsSync(`${file}.damaged`), 'no record was taken for damage');
    const records = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { who: string; i: number; pad: string });
    assert.equal(records.length, 600);
    for (const who of ['n0', 'n1', 'n2', 'p0', 'p1', 'p2']) {
      const mine = records.filter((r) => r.who === who);
      assert.deepEqual(mine.map((r) => r.i), Array.from({ length: 100 }, (_, i) => i), `${who}'s records are all there, in order`);
      for (const r of mine) assert.equal(`${JSON.stringify(r)}\n`, record(who, r.i));
    }
  });
});

describe('the orphan clean-up after a crash', () => {
  it('ends a run whose process died mid-write on the first pass, not 30 s later', async () => {
    const layout = tmpWorkspace();
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('close', r));
    const runId = writeRun(layout, [{ type: 'capture', capture: { pid: dead.pid, host: os.hostname() } }, ...metricEvents('loss', 3)]);
    const file = layout.eventsFile(runId);
    fs.appendFileSync(file, TAILS.torn);
    const quiet = new Date(Date.now() - 120_000);
    fs.utimesSync(file, quiet, quiet);
    const tracking = await Tracking.open(layout.root);
    try {
      assert.equal(tracking.getRun(runId)?.status, 'KILLED');
      assert.equal(tracking.metricHistory(runId, 'loss').values.length, 3);
    } finally {
      tracking.close();
    }
  });
});

describe('the alias move of the issue, through the CLI', () => {
  it('mlops models alias after a torn registry line moves the champion for real, says so once, and audits 1 → 2', async () => {
    const layout = tmpWorkspace();
    const p = await Project.open(layout.root);
    try {
      for (const w of [1, 2]) {
        fs.writeFileSync(path.join(layout.root, 'model.json'), `{"w": [${w}]}`);
        await p.registerModel('churn', 'model.json');
      }
      p.registry.setAlias('churn', 'champion', 1);
      crashLeft(p.registry.file, TAILS.torn);
    } finally {
      p.close();
    }
    const r = spawnSync(process.execPath, [cliPath, '--workspace', layout.root, 'models', 'alias', 'churn', 'champion', '2'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /churn@champion → version 2/);
    assert.equal((r.stderr.match(/moved it to .*registry\.jsonl\.damaged/g) ?? []).length, 1, r.stderr);
    const again = await Project.open(layout.root);
    try {
      assert.equal(again.registry.version('churn', 'champion').version, 2);
      assert.deepEqual(again.audit.entries().at(-1)?.details, { alias: 'champion', from: 1, to: 2 });
    } finally {
      again.close();
    }
  });
});

describe('a change and its audit entry land together', () => {
  it('an alias move whose audit entry cannot be written is taken back out of the registry', async () => {
    const layout = tmpWorkspace();
    const p = await Project.open(layout.root);
    try {
      fs.writeFileSync(path.join(layout.root, 'model.json'), '{}');
      await p.registerModel('churn', 'model.json');
      const before = fs.readFileSync(p.registry.file);
      fs.rmSync(p.audit.headFile);
      fs.mkdirSync(p.audit.headFile); // the audit trail cannot be written
      assert.throws(() => p.registry.setAlias('churn', 'champion', 1));
      assert.deepEqual(fs.readFileSync(p.registry.file), before);
      assert.deepEqual(p.registry.model('churn').aliases, {});
    } finally {
      p.close();
    }
  });
});

describe('readers report damaged lines', () => {
  it('a reindex names the file and line of an unreadable event', async () => {
    const layout = tmpWorkspace();
    const runId = writeRun(layout, metricEvents('loss', 2));
    fs.appendFileSync(layout.eventsFile(runId), '{"type":"metric", oops\n');
    const messages: string[] = [];
    const tracking = await Tracking.open(layout.root, { onMessage: (m) => messages.push(m) });
    tracking.close();
    assert.ok(messages.some((m) => m.includes(`${layout.eventsFile(runId)}:4: not valid JSON; line skipped`)), messages.join('\n'));
  });

  it('a reindex names a log whose last line a crash cut off (once), and reads every line before it', async () => {
    const heard = hearDamage();
    const layout = tmpWorkspace();
    const runId = writeRun(layout, metricEvents('loss', 2));
    crashLeft(layout.eventsFile(runId), TAILS.NUL);
    const tracking = await Tracking.open(layout.root);
    try {
      await tracking.reindex();
      assert.equal(tracking.metricHistory(runId, 'loss').values.length, 2);
    } finally {
      tracking.close();
    }
    assert.deepEqual(heard.map((d) => d.message), [
      `${layout.eventsFile(runId)}:4: the last line is cut off (no newline: a crash or a full disk cut it short); it is not read, and the next append moves it to events.jsonl.damaged`,
    ]);
  });

  it('the registry names the file and line it could not read, once', async () => {
    const heard = hearDamage();
    const layout = tmpWorkspace();
    const p = await Project.open(layout.root);
    try {
      fs.writeFileSync(path.join(layout.root, 'model.json'), '{}');
      await p.registerModel('clf', 'model.json');
      fs.appendFileSync(p.registry.file, 'garbage\n');
      p.registry.models();
      crashLeft(p.registry.file, Buffer.from('{"type":"alias"'));
      p.registry.models();
      p.registry.models();
      assert.deepEqual(heard.map((d) => d.message.slice(d.message.indexOf('registry.jsonl'))), [
        'registry.jsonl:2: not valid JSON; line skipped',
        'registry.jsonl:3: the last line is cut off (no newline); it is ignored, and the next change moves it to registry.jsonl.damaged',
      ]);
    } finally {
      p.close();
    }
  });

  it('the audit trail names unreadable lines when it lists entries', () => {
    const heard = hearDamage();
    const layout = tmpWorkspace();
    const log = new AuditLog(layout);
    log.append('snapshot', ['a']);
    fs.appendFileSync(log.file, 'not json\n');
    assert.equal(log.entries().length, 1);
    assert.equal(heard.length, 1);
    assert.match(heard[0].message, /audit\.jsonl:2: it is not JSON.*line skipped/);
  });

  it('experiments.jsonl: a cut-off last line is a warning, not silence', () => {
    const layout = tmpWorkspace();
    const file = experimentsFile(layout);
    new ExperimentLog(file).create('first');
    crashLeft(file, Buffer.from('{"type":"experiment","ti'));
    assert.deepEqual(new ExperimentLog(file).warnings, ['line 2: cut off (no newline)']);
  });
});

describe('a tail still being written is not damage', () => {
  it('waits for a write under way (a young tail) instead of moving it aside', async () => {
    const layout = tmpWorkspace();
    const runId = writeRun(layout, []);
    const file = layout.eventsFile(runId);
    const line = '{"type":"tag","time":1700000000000,"key":"a","value":"b"}\n';
    // Another process finishes the line 200 ms after it says it is ready; the wait below is synchronous.
    const child = spawn(process.execPath, ['-e', `console.log('ready'); setTimeout(() => require('fs').appendFileSync(${JSON.stringify(file)}, ${JSON.stringify(line.slice(20))}), 200)`]);
    await new Promise((r) => child.stdout.once('data', r));
    fs.appendFileSync(file, line.slice(0, 20)); // its write, half done
    appendEvents(file, [{ type: 'run_end', status: 'FINISHED', exit_code: 0 }]);
    await new Promise((r) => child.on('close', r));
    assert.ok(!fs.existsSync(`${file}.damaged`));
    const types = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    assert.deepEqual(types, ['run_start', 'tag', 'run_end']);
  });
});
