// Open Inference Protocol v2 and MLflow /invocations on real HTTP requests against the real
// fixture model: every answer equals onnxruntime's own, in this process, on the same rows.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { predictionLogFiles } from '../../src/core/serving/predictionLog';
import { ALL_TYPES, breastCancer, fixtureProbabilities, MODEL, NORM, post, startServer, standardise } from './servingHelpers';

const { rows } = breastCancer();
const five = rows.slice(0, 5);

describe('model server: Open Inference Protocol v2', async () => {
  const server = await startServer();
  const base = server.url;
  const infer = `${base}/v2/models/cancer/infer`;
  const standardised = standardise(five);
  const expected = await fixtureProbabilities(five);
  const flat = (m: number[][]) => m.flat().map((v) => Math.fround(v));

  it('answers health, server metadata and model metadata with variable dims as -1', async () => {
    assert.deepEqual(await (await fetch(`${base}/v2/health/live`)).json(), { live: true });
    assert.deepEqual(await (await fetch(`${base}/v2/health/ready`)).json(), { ready: true });
    const meta = (await (await fetch(`${base}/v2`)).json()) as { name: string; extensions: string[] };
    assert.equal(meta.name, 'mlops-workbench');
    assert.ok(meta.extensions.includes('binary_tensor_data'));
    const model = await (await fetch(`${base}/v2/models/cancer`)).json();
    assert.deepEqual(model, {
      name: 'cancer', versions: ['1'], platform: 'onnx_onnxv1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 30] }], outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
    });
    assert.deepEqual(await (await fetch(`${base}/v2/models/cancer/versions/1/ready`)).json(), { name: 'cancer', ready: true });
  });

  it('infers by model and by version, flat or nested data, equal to onnxruntime in process', async () => {
    const flatReq = { id: 'r1', inputs: [{ name: 'input', shape: [5, 30], datatype: 'FP32', data: flat(standardised) }] };
    const a = await post(infer, flatReq);
    assert.equal(a.status, 200, JSON.stringify(a.json));
    assert.equal(a.json.id, 'r1');
    assert.equal(a.json.model_name, 'cancer');
    assert.equal(a.json.model_version, '1');
    const [out] = a.json.outputs as { name: string; shape: number[]; datatype: string; data: number[] }[];
    assert.deepEqual(out.shape, [5, 2]);
    assert.equal(out.datatype, 'FP32');
    assert.deepEqual(out.data, expected.flat());
    const nested = await post(`${base}/v2/models/cancer/versions/1/infer`, { inputs: [{ name: 'input', shape: [5, 30], datatype: 'FP32', data: standardised }] });
    assert.equal(nested.status, 200);
    assert.deepEqual((nested.json.outputs as { data: number[] }[])[0].data, expected.flat());
  });

  it('returns only the outputs asked for, and refuses an unknown one', async () => {
    const ok = await post(infer, { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: standardised[0] }], outputs: [{ name: 'probabilities' }] });
    assert.equal((ok.json.outputs as unknown[]).length, 1);
    const bad = await post(infer, { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: standardised[0] }], outputs: [{ name: 'logits' }] });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error), /no output "logits".*"probabilities"/);
  });

  it('takes and gives binary tensor data (Inference-Header-Content-Length)', async () => {
    const data = Float32Array.from(standardised.flat());
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'input', shape: [5, 30], datatype: 'FP32', parameters: { binary_data_size: data.byteLength } }],
      outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
    }));
    const res = await fetch(infer, { method: 'POST', body: Buffer.concat([header, Buffer.from(data.buffer)]), headers: { 'Inference-Header-Content-Length': String(header.length), 'Content-Type': 'application/octet-stream' } });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    const jsonLength = Number(res.headers.get('inference-header-content-length'));
    const meta = JSON.parse(body.subarray(0, jsonLength).toString()) as { outputs: { parameters: { binary_data_size: number } }[] };
    assert.equal(meta.outputs[0].parameters.binary_data_size, 40);
    const got = new Float32Array(body.buffer.slice(body.byteOffset + jsonLength, body.byteOffset + jsonLength + 40));
    assert.deepEqual(Array.from(got), expected.flat());
  });

  it('answers client mistakes with a 4xx naming the input, what it expects and what came', async () => {
    const cases: [unknown, number, RegExp, string?][] = [
      [{ inputs: [{ name: 'input', shape: [1, 29], datatype: 'FP32', data: Array(29).fill(0) }] }, 400, /input "input": expected shape \[-1,30\].*got \[1,29\]/],
      [{ inputs: [{ name: 'input', shape: [2, 30], datatype: 'FP32', data: Array(30).fill(0) }] }, 400, /input "input": shape \[2,30\] needs 60 values but "data" has 30/],
      [{ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP64', data: Array(30).fill(0) }] }, 400, /input "input": expected datatype FP32, got FP64/],
      [{ inputs: [{ name: 'features', shape: [1, 30], datatype: 'FP32', data: Array(30).fill(0) }] }, 400, /no input "features".*"input" FP32 \[-1,30\]/],
      [{ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: [...Array(29).fill(0), 'x'] }] }, 400, /element 29 \("x"\)|FP32 data must be numbers; element 29/],
      [{ inputs: [] }, 400, /Missing input "input"/],
      ['{"inputs": [', 400, /not valid JSON/],
      [{ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: Array(30).fill(0) }] }, 404, /Unknown model "dog"/, `${base}/v2/models/dog/infer`],
      [{ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: Array(30).fill(0) }] }, 404, /no version "7" loaded; loaded: 1/, `${base}/v2/models/cancer/versions/7/infer`],
      [{ inputs: [{ name: 'input', shape: [20000, 30], datatype: 'FP32', data: Array(600000).fill(0.123456) }] }, 413, /at most 1048576/],
    ];
    for (const [body, status, message, url] of cases) {
      const res = await post(url ?? infer, body);
      assert.equal(res.status, status, `${JSON.stringify(res.json).slice(0, 200)}`);
      assert.match(String(res.json.error), message);
    }
    assert.equal((await fetch(`${base}/v2/health/live`)).status, 200, 'still serving');
  });

  it('rejects foreign Host headers', async () => {
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: server.port, path: '/v2/health/live', headers: { Host: 'evil.example:80' } }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
    });
    assert.equal(status, 403);
  });

  it('writes the predictions it served to the prediction log, off the request path', async () => {
    await post(infer, { id: 'logged', inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: standardised[0] }] });
    // Flat data with pretty-printing and "NaN" strings: the log still holds rows of this request's values.
    const text = JSON.stringify({ id: 'flat', inputs: [{ name: 'input', shape: [2, 30], datatype: 'FP32', data: flat(standardised.slice(0, 2)) }] }, null, 1);
    assert.equal((await post(infer, text)).status, 200);
    const odd = [...standardised[2].slice(0, 29), 'NaN'];
    assert.equal((await post(infer, { id: 'odd', inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: odd }] })).status, 200);
    const data = Float32Array.from(standardised[3]);
    const header = Buffer.from(JSON.stringify({ id: 'binary', inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', parameters: { binary_data_size: data.byteLength } }] }));
    assert.equal((await fetch(infer, { method: 'POST', body: Buffer.concat([header, Buffer.from(data.buffer)]), headers: { 'Inference-Header-Content-Length': String(header.length) } })).status, 200);
    await (server as unknown as { log: { flush(): Promise<void> } }).log.flush();
    const [file] = predictionLogFiles(server.config.predictionLog.dir);
    const records = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const mine = records.find((r) => r.id === 'logged');
    assert.equal(mine.deployment, 'cancer');
    assert.equal(mine.version, '1');
    assert.equal(mine.variant, 'primary');
    // JSON numbers as the client wrote them; binary data as the FP32 values it carried.
    assert.deepEqual(mine.inputs.input, [standardised[0]]);
    assert.deepEqual(mine.outputs.probabilities[0], expected[0]);
    assert.ok(mine.latency_ms > 0);
    assert.deepEqual(records.find((r) => r.id === 'flat').inputs.input, [flat([standardised[0]]), flat([standardised[1]])]);
    assert.deepEqual(records.find((r) => r.id === 'odd').inputs.input, [[...flat([standardised[2]]).slice(0, 29), 'NaN']]);
    assert.deepEqual(records.find((r) => r.id === 'binary').inputs.input, [flat([standardised[3]])]);
  });
});

describe('model server: MLflow /invocations', async () => {
  const server = await startServer({ processing: { standardize: NORM } });
  const url = `${server.url}/invocations`;
  const expected = await fixtureProbabilities(five);

  it('answers dataframe_split, dataframe_records, instances and inputs with the same predictions, on raw features', async () => {
    const columns = Array.from({ length: 30 }, (_, i) => `f${i}`);
    const bodies = [
      { dataframe_split: { columns, data: five } },
      { dataframe_records: five.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))) },
      { instances: five },
      { inputs: five },
      { inputs: { input: five } },
    ];
    for (const body of bodies) {
      const res = await post(url, body);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(res.json.predictions, expected, Object.keys(body)[0]);
    }
  });

  it('names what is wrong with a bad scoring body', async () => {
    const cases: [unknown, RegExp][] = [
      [{ rows: five }, /needs one of dataframe_split, dataframe_records, instances or inputs/],
      [{ instances: [[1, 2, 3]] }, /input "input" expects shape \[-1,30\].*got rows of shape \[1,3\]/],
      [{ dataframe_split: { columns: ['a'] } }, /dataframe_split needs/],
      [{ instances: five, inputs: five }, /not several/],
    ];
    for (const [body, message] of cases) {
      const res = await post(url, body);
      assert.equal(res.status, 400);
      assert.match(String(res.json.error), message);
    }
    const csv = await fetch(url, { method: 'POST', body: '1,2', headers: { 'Content-Type': 'text/csv' } });
    assert.equal(csv.status, 415);
  });
});

describe('model server: datatypes, processing and token', async () => {
  it('round-trips every Open Inference Protocol datatype through an ONNX model, JSON and binary', async () => {
    const server = await startServer({}, ALL_TYPES);
    const values: Record<string, unknown[]> = {
      BOOL: [true, false, false, true], UINT8: [0, 1, 200, 255], UINT16: [0, 1, 65535, 7], UINT32: [0, 1, 4294967295, 9],
      UINT64: [0, 1, 2 ** 40, 5], INT8: [-128, 0, 127, 1], INT16: [-32768, 0, 32767, 2], INT32: [-2147483648, 0, 2147483647, 3],
      INT64: [-(2 ** 40), 0, 2 ** 40, 4], FP16: [0.5, -2, 1024, 0.25], FP32: [1.5, -0.25, 3.25, 0], FP64: [0.1, 1e300, -2.5, 7],
      BYTES: ['a', '', 'ünï', 'x y'],
    };
    const inputs = Object.entries(values).map(([dt, data]) => ({ name: `x_${dt === 'FP16' ? 'fp16' : dt.toLowerCase()}`, shape: [2, 2], datatype: dt, data }));
    const res = await post(`${server.url}/v2/models/cancer/infer`, { inputs });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    for (const out of res.json.outputs as { name: string; datatype: string; data: unknown[] }[]) {
      assert.deepEqual(out.data, values[out.datatype], out.name);
    }
    // Binary: all outputs as binary data; INT64 and BYTES bytes checked against onnxruntime's.
    const header = Buffer.from(JSON.stringify({ inputs, parameters: { binary_data_output: true } }));
    const bin = await fetch(`${server.url}/v2/models/cancer/infer`, { method: 'POST', body: header, headers: { 'Inference-Header-Content-Length': String(header.length) } });
    assert.equal(bin.status, 200);
    const body = Buffer.from(await bin.arrayBuffer());
    const n = Number(bin.headers.get('inference-header-content-length'));
    const meta = JSON.parse(body.subarray(0, n).toString()) as { outputs: { name: string; parameters: { binary_data_size: number } }[] };
    let at = n;
    const chunks = Object.fromEntries(meta.outputs.map((o) => {
      const c = body.subarray(at, at + o.parameters.binary_data_size);
      at += o.parameters.binary_data_size;
      return [o.name, c];
    }));
    assert.deepEqual(Array.from(new BigInt64Array(new Uint8Array(chunks.y_int64).buffer)), [-(2n ** 40n), 0n, 2n ** 40n, 4n]);
    assert.deepEqual([...chunks.y_bytes], [1, 0, 0, 0, 97, 0, 0, 0, 0, 5, 0, 0, 0, ...Buffer.from('ünï'), 3, 0, 0, 0, ...Buffer.from('x y')]);
    assert.equal(at, body.length);
  });

  it('standardises raw features, and names classes', async () => {
    const server = await startServer({ processing: { standardize: NORM, labels: { names: ['malignant', 'benign'] } } });
    const { rows: all, targets } = breastCancer();
    const res = await post(`${server.url}/v2/models/cancer/infer`, { inputs: [{ name: 'input', shape: [all.length, 30], datatype: 'FP32', data: all }] });
    assert.equal(res.status, 200);
    const outputs = res.json.outputs as { name: string; data: unknown[] }[];
    const labels = outputs.find((o) => o.name === 'label')!.data as string[];
    const correct = labels.filter((l, i) => (l === 'benign' ? 1 : 0) === targets[i]).length;
    // The fixture model's test accuracy is 0.958: on the whole set it must be well above chance.
    assert.ok(correct / all.length > 0.9, `accuracy ${correct / all.length}`);
    const probs = outputs.find((o) => o.name === 'probabilities')!.data as number[];
    assert.deepEqual(probs.slice(0, 10), (await fixtureProbabilities(all.slice(0, 5))).flat());
  });

  it('needs the token when one is set', async () => {
    const server = await startServer({ token: 'sesame' });
    const body = { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: Array(30).fill(0) }] };
    assert.equal((await post(`${server.url}/v2/models/cancer/infer`, body)).status, 401);
    assert.equal((await post(`${server.url}/v2/models/cancer/infer`, body, { Authorization: 'Bearer sesame' })).status, 200);
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200, 'probes need no token');
  });

  it('refuses to start on a file that is not a model, naming it', async () => {
    await assert.rejects(startServer({}, MODEL + '.missing'), /cannot serve/);
  });
});
