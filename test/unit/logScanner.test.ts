// The prediction-log scanner reads what JSON.parse would, without building the objects:
// every number the same double, strings with escapes, odd spacing, unreadable lines refused.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { BadLine, LineScanner, type TensorSink } from '../../src/core/monitoring/logScanner';
import { readPredictionWindow } from '../../src/core/monitoring/predictionWindow';
import { seededRandom } from '../../src/core/validation/random';
import { tmpWorkspace } from './helpers';

/** Every cell of a line's input tensors, in order, as the scanner reads them. */
function cells(line: string): unknown[] {
  const scanner = new LineScanner();
  const buf = Buffer.from(line);
  const scanned = scanner.scan(buf, 0, buf.length);
  const out: unknown[] = [];
  const sink: TensorSink = { tensor: () => true, row() {}, cell: (v) => out.push(v), end() {} };
  scanner.readTensors(scanned.inputs!, false, sink);
  return out;
}

describe('the prediction-log scanner', () => {
  it('turns every number into the double JSON.parse gives, in all the ways numbers are written', () => {
    const rand = seededRandom(3);
    const numbers: string[] = ['0', '-0', '1e400', '-1e-400', '5e-324', '1.7976931348623157e308', '123456789012345678901234567890', '0.1', '1E5', '2.5e+3', '-0.000001'];
    for (let i = 0; i < 20_000; i++) {
      const x = (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
      numbers.push(String(x), x.toFixed(Math.floor(rand() * 12)), x.toExponential(Math.floor(rand() * 18)), x.toPrecision(1 + Math.floor(rand() * 20)));
    }
    const line = `{"inputs": {"x": [[${numbers.join(', ')}]]}}`;
    const got = cells(line);
    numbers.forEach((text, i) => assert.ok(Object.is(got[i], JSON.parse(text)), `${text}: ${got[i]} vs ${JSON.parse(text)}`));
  });

  it('reads strings, escapes, booleans, nulls and nested values in cells, and skips fields it does not need', () => {
    const line = ' { "id" : "a\\"b}", "meta": {"k": [1, {"x": "]"}]}, "time" : 17 , "variant":"a\\u0062", "latency_ms": 2.5e0, "inputs": {"x": [["naïve", "q\\"uote", true, null, {"n": 1}, -3]], "y": [1, 2]}, "outputs": {}}  ';
    const scanner = new LineScanner();
    const buf = Buffer.from(line);
    const s = scanner.scan(buf, 0, buf.length);
    assert.deepEqual([s.time, s.variant, s.latency], [17, 'ab', 2.5]);
    assert.deepEqual(cells(line), ['naïve', 'q"uote', true, null, { n: 1 }, -3, 1, 2]);
  });

  it('refuses what JSON.parse refuses: torn lines, trailing text, bad numbers', () => {
    for (const bad of ['{"time": 1, "inputs": {"x": [[1, 2', '{"inputs": {"x": [1]}} extra', '{"inputs": {"x": [1.]}}', '{"inputs": {"x": [-]}}', '{"inputs": {"x": [1,]}}', '{"a": "no end}']) {
      assert.throws(() => cells(bad), BadLine, bad);
      assert.throws(() => JSON.parse(bad), SyntaxError, bad);
    }
    assert.throws(() => cells('[{"inputs": {"x": [1]}}]'), BadLine, 'a line that is not a record');
  });

  it('gives a window the same columns as parsing each line whole', () => {
    const layout = tmpWorkspace();
    const dir = path.join(layout.dir, 'serving', 'x');
    fs.mkdirSync(dir, { recursive: true });
    const rand = seededRandom(8);
    const records = Array.from({ length: 500 }, (_, i) => ({
      time: 1000 + i, variant: i % 50 === 0 ? 'shadow' : 'primary', latency_ms: rand() * 10,
      inputs: { a: Array.from({ length: 1 + (i % 3) }, () => [rand(), i % 4 ? rand() * 1e6 : 'high', i % 7 ? -rand() : null]) },
      outputs: { label: Array.from({ length: 1 + (i % 3) }, () => (rand() > 0.5 ? 'yes' : 'no')) },
    }));
    fs.writeFileSync(path.join(dir, 'predictions.jsonl'), records.map((r) => JSON.stringify(r, null, r.time % 5 ? undefined : 1).replace(/\n/g, ' ')).join('\n') + '\n');
    const w = readPredictionWindow(dir, 'x', { window: { rows: 700 }, featureNames: ['p', 'q', 'r'] });
    // Expected from JSON.parse: the newest non-shadow records until 700 rows, the oldest one cut to fit.
    const kept: unknown[][] = [];
    const labels: string[] = [];
    for (const r of [...records].reverse()) {
      if (r.variant === 'shadow') continue;
      const take = Math.min(r.inputs.a.length, 700 - kept.length);
      kept.push(...r.inputs.a.slice(r.inputs.a.length - take));
      labels.push(...r.outputs.label.slice(r.outputs.label.length - take));
      if (kept.length >= 700) break;
    }
    assert.equal(w.rows, 700);
    const p = w.columns.get('p')!, q = w.columns.get('q')!, r = w.columns.get('r')!, label = w.columns.get('label')!;
    assert.equal(p.kind, 'numeric');
    assert.deepEqual([...(p as { values: Float64Array }).values].sort(), kept.map((row) => row[0] as number).sort());
    assert.equal(q.kind, 'categorical', 'one text cell makes a column categorical');
    assert.equal((q as { counts: Map<string, number> }).counts.get('high'), kept.filter((row) => row[1] === 'high').length);
    assert.equal(r.missing, kept.filter((row) => row[2] === null).length);
    assert.deepEqual(w.predictions, ['label']);
    assert.equal((label as { counts: Map<string, number> }).counts.get('yes'), labels.filter((l) => l === 'yes').length);
    assert.equal(w.latencies.length, records.filter((x) => x.variant !== 'shadow' && x.time >= w.from!).length, 'one latency per request in the window');
    assert.equal(w.to, 1499);
  });
});
