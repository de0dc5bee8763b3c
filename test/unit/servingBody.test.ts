import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NumericData, parseInferBody } from '../../src/core/serving/numericJson';

/** What the fast path read, with its numeric lists as the JS arrays JSON.parse builds. */
function plain(v: unknown): unknown {
  if (v instanceof NumericData) return v.toJson();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

// A small seeded generator, so a failure names a body that can be run again.
let seed = 7;
function random(): number {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(a: T[]): T => a[Math.floor(random() * a.length)];

/** JSON.parse's value, or undefined where it refuses the text. */
function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const EDGE_NUMBERS = ['0', '-0', '1', '-1', '0.0', '1e5', '1E+5', '1e-5', '-0.0e0', '123456789012345678901234567890', '1.7976931348623157e308', '1e309', '-1e400',
  '5e-324', '1e-400', '3.4028235e38', '3.4028236e38', '1.401298464324817e-45', '7e-46', '0.1', '0.30000000000000004', '9007199254740993', '9007199254740992.5',
  '0.000000000000000000000000000001234567890123456789', '1.00000005960464477539062500000000001', '1.000000059604644775390625'];
const INVALID_NUMBERS = ['01', '1.', '.5', '-', '1e', '1e+', '+1', 'NaN', 'Infinity', '"NaN"', 'null', 'true', '0x10', '--1', '1.5.5'];

function number(): string {
  const k = random();
  if (k < 0.25) return String(Math.sin(random() * 1000) * 10 ** Math.floor(random() * 80 - 40));
  if (k < 0.35) return pick(EDGE_NUMBERS);
  if (k < 0.4) return pick(INVALID_NUMBERS);
  if (k < 0.6) {
    const digits = Array.from({ length: 1 + Math.floor(random() * 25) }, () => Math.floor(random() * 10)).join('').replace(/^0+(?=\d)/, '');
    return `${random() < 0.3 ? '-' : ''}${digits}${random() < 0.5 ? `.${Math.floor(random() * 1e9)}` : ''}${random() < 0.3 ? `e${pick(['', '-', '+'])}${Math.floor(random() * 60)}` : ''}`;
  }
  return String(Math.fround(random() * 4 - 2));
}

const space = () => pick(['', '', '', ' ', '\n', '\t', ' \r\n ']);

function list(depth: number, dims: number[]): string {
  if (depth === dims.length) return number();
  const n = Math.max(0, dims[depth] + (random() < 0.05 ? pick([-1, 1]) : 0)); // now and then unevenly nested
  const items = Array.from({ length: n }, () => space() + list(depth + 1, dims) + space());
  return `[${items.join(random() < 0.98 ? pick([',', ', ']) : ',,')}]${random() < 0.01 ? ',' : ''}`;
}

function body(): string {
  const dims = Array.from({ length: 1 + Math.floor(random() * 3) }, () => Math.floor(random() * 5));
  const data = list(0, dims);
  const input = pick([
    `{"name":"input","shape":${JSON.stringify(dims)},"datatype":"FP32","data":${data}}`,
    `{${space()}"data"${space()}:${space()}${data}${space()},${space()}"name": "input", "parameters": {"a": [1, "x]}", {"b": null}]}}`,
    `{"data": ${data}, "data": ${data}}`,
    `{"__proto__": {"x": 1}, "data": ${data}}`,
    `{"na\\u006de": "input", "data": ${data}}`,
    `{"name": "é中", "data": ${data}}`,
    `[${data}]`, `{"data": ${data}`, `{"data": ${data},}`,
  ]);
  return pick([`{"inputs": [${input}]}`, `{"id": "x", "inputs" : [${input}, ${input}], "outputs": [{"name": "y"}] }`, `${space()}{"inputs":[${input}]}${space()}`,
    `{"inputs": [${input}]} x`, '{"inputs": []}', '{}', `{"inputs": [${input}], "parameters": {"binary_data_output": true}}`, `\ufeff{"inputs": [${input}]}`]);
}

describe('model server: reading infer bodies', () => {
  it('reads 20,000 generated bodies as JSON.parse does, or leaves them to it', () => {
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = body();
      const expected = jsonOf(text);
      const got = parseInferBody(Buffer.from(text));
      if (got === undefined) continue;
      assert.notEqual(expected, undefined, `accepted a body JSON.parse refuses: ${text}`);
      assert.deepEqual(plain(got), expected, text);
      for (const [j, input] of ((got as { inputs?: { data?: unknown }[] }).inputs ?? []).entries()) {
        if (!(input?.data instanceof NumericData)) continue;
        const values = ((expected as { inputs: { data: unknown[] }[] }).inputs[j].data).flat(Infinity) as number[];
        assert.deepEqual(Array.from(input.data.float32()), Array.from(Float32Array.from(values)), `FP32 of ${text}`);
        assert.deepEqual(Array.from(input.data.float64()), values, `FP64 of ${text}`);
        read++;
      }
    }
    assert.ok(read > 2000, `only ${read} numeric lists took the fast path`);
  });

  it('rounds to FP32 exactly where a value lies next to the midpoint of two floats', () => {
    // Each is (about) the double midway between two floats: a value read with any error rounds the wrong way.
    const texts = ['1.000000059604644775390625', '74.007793426513671875', '80.115291595458984375', '8.39330339431762695313', '79.211338043212890625', '16777217.000000000001'];
    const got = parseInferBody(Buffer.from(`{"inputs":[{"data":[${texts.join(',')}]}]}`)) as { inputs: { data: NumericData }[] };
    assert.deepEqual(Array.from(got.inputs[0].data.float32()), texts.map((t) => Math.fround(Number(t))));
  });

  it('reads long fractions, exponents, negative zero, nesting and whitespace as JSON.parse does', () => {
    // Fractions are read four digits at a time: runs of every length, ending at every offset, next to ":" and "/" (one past and one before the digits).
    const numbers = ['0.12345678901234567', '-0.8414709848078965', '0.00001234', '-0', '-0.0', '-0.0000e5', '1.2345e-7', '12.3456E+2', '7.0e0', '0.1', '0.12', '0.123', '0.1234', '0.12345',
      '123456789.987654321', '1.00000000000000000000001', '99999999.99999999', '0.30000000000000004', '4.000000000000001e-300'];
    for (const pad of ['', ' ', '  ', '   ']) {
      for (const text of [`[${numbers.join(',')}]`, `[[${numbers.slice(0, 9).join(', ')}],\n [${numbers.slice(9, 18).join(' ,')}]]`, `[ ${numbers.join(pad + ',' + pad)} ]`]) {
        const body = `{"inputs":[{"data":${text}${pad}}]}`;
        const got = parseInferBody(Buffer.from(body)) as { inputs: { data: NumericData }[] };
        assert.ok(got.inputs[0].data instanceof NumericData, body);
        const values = (JSON.parse(body).inputs[0].data as unknown[]).flat(Infinity) as number[];
        assert.deepEqual(Array.from(got.inputs[0].data.float64()), values, body);
        assert.ok(Object.is(got.inputs[0].data.float64()[3], -0), 'negative zero stays negative');
        assert.deepEqual(Array.from(got.inputs[0].data.float32()), Array.from(Float32Array.from(values)), body);
      }
    }
  });

  it('reads names, datatypes and shapes as JSON.parse does, or leaves them to it', () => {
    const values = ['"input"', '"in\\"put"', '"in\\u0070ut"', '"tab\there"', '"é中"', '""', '"FP32"', '"unterminated', '0', '7', '01', '-1', '1.0', '1e1', '2E0', '123456789012345',
      '1234567890123456789', '[1, 30]', '[ 2 ,3 ]', '[01, 2]', '[1e1, 2]', '[-1, 2]', '[1.5, 2]', '[]', '[[1], 2]', '[1, "x"]', '[1 2]', '[1,]', 'true', 'null', '{"a": [1]}'];
    for (const value of values) {
      for (const key of ['name', 'shape', 'datatype']) {
        const body = `{"inputs": [{"${key}": ${value}, "data": [1, 2]}], "id": ${value}}`;
        const expected = jsonOf(body);
        const got = parseInferBody(Buffer.from(body));
        if (expected === undefined) assert.equal(got, undefined, `${body}: left to JSON.parse`);
        else if (got !== undefined) assert.deepEqual(plain(got), expected, body);
      }
    }
  });

  it('leaves a malformed numeric list to JSON.parse, which names the problem', () => {
    for (const data of ['[0.1234:5]', '[0.12:3456]', '[0.1=2345]', '[0.98765;4321]', '[0.123/4]', '[0.1234', '[0.12345678', '[1.]', '[-.5]', '[0.1e]', '[0.1234,]', '[[1,2],[3]]', '[1,[2]]', '[0.5 0.25]']) {
      const body = `{"inputs":[{"data":${data}}]}`;
      const got = parseInferBody(Buffer.from(body)) as { inputs: { data: unknown }[] } | undefined;
      if (jsonOf(body) !== undefined) assert.ok(!(got?.inputs[0].data instanceof NumericData), `${data}: not evenly nested, so JSON.parse's lists`);
      else assert.equal(got, undefined, `${data}: left to JSON.parse`);
    }
  });

  it('gives the client\'s own rows for the prediction log, nested by the shape', () => {
    const rows = (text: string, shape: number[]) => (parseInferBody(Buffer.from(`{"inputs":[{"data":${text}}]}`)) as { inputs: { data: NumericData }[] }).inputs[0].data.rowsText(shape)?.toString();
    assert.equal(rows('[[1, 2.50], [3,4e0]]', [2, 2]), '[[1, 2.50], [3,4e0]]');
    assert.equal(rows('[1, 2.50, 3,4e0]', [2, 2]), '[[1, 2.50],[3,4e0]]');
    assert.equal(rows('[1,2,3,4,5,6,7,8]', [2, 2, 2]), '[[[1,2],[3,4]],[[5,6],[7,8]]]');
    assert.equal(rows('[[1,2,3,4]]', [2, 2]), '[[1,2],[3,4]]');
    assert.equal(rows('[[1,2,3],[4,5,6]]', [3, 2]), undefined, 'rows that straddle the client\'s lists');
    assert.equal(rows('[1,\n2]', [1, 2]), undefined, 'a line break inside');
  });
});
