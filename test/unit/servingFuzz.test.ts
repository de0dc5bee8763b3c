// 5,000 seeded malformed bodies against the model server: every answer is a 4xx with an
// {"error"} body (or, where a mutation happens to be valid, a correct 200), never a 5xx,
// and the server keeps answering correctly afterwards.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { describe, it } from 'node:test';
import { rng } from './helpers';
import { fixtureProbabilities, breastCancer, post, startServer, standardise } from './servingHelpers';

const REQUESTS = Number(process.env.MLOPS_FUZZ_REQUESTS) || 5000;
const SEED = Number(process.env.MLOPS_FUZZ_SEED) || 0x5e_4e_11;

describe('model server fuzz', () => {
  it(`answers ${REQUESTS} fuzzed bodies with 4xx, never a 5xx, and stays up`, { timeout: 240_000 }, async () => {
    const server = await startServer({ batching: { maxBatch: 8, maxDelayMs: 1 } });
    const random = rng(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const int = (n: number) => Math.floor(random() * n);
    const junk = (): unknown => pick<() => unknown>([
      () => null, () => true, () => int(1e9) - 5e8, () => random() * 1e308, () => 'x'.repeat(int(50)), () => [], () => ({}),
      () => Array.from({ length: int(40) }, () => random()), () => 'NaN', () => -0, () => [[[]]], () => ({ name: 'input' }),
      () => Array.from({ length: int(5) }, () => Array(30).fill(int(3))), () => 2 ** 64, () => '\u0000\ud800',
    ])();
    const good = () => ({ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: Array.from({ length: 30 }, () => random()) }] });
    const mutate = (body: Record<string, unknown>): unknown => {
      const input = (body.inputs as Record<string, unknown>[])[0];
      switch (int(10)) {
        case 0: input[pick(['name', 'shape', 'datatype', 'data', 'parameters'])] = junk(); break;
        case 1: delete input[pick(['name', 'shape', 'datatype', 'data'])]; break;
        case 2: input.shape = [int(4), int(40)]; break;
        case 3: input.datatype = pick(['FP64', 'INT64', 'BYTES', 'BOOL', 'fp32', 'FP128', '']); break;
        case 4: (input.data as unknown[])[int(30)] = junk(); break;
        case 5: body.inputs = junk(); break;
        case 6: body.outputs = [{ name: junk() }]; break;
        case 7: input.parameters = { binary_data_size: int(200) }; break;
        case 8: return junk();
        default: body.id = junk(); (input.data as unknown[]).length = int(30); break;
      }
      return body;
    };
    const paths = ['/v2/models/cancer/infer', '/v2/models/cancer/versions/1/infer', '/invocations', '/v2/models/x/infer', '/v2/models/cancer/versions/9/infer'];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const statuses = new Map<number, number>();
    const send = (p: string, body: Buffer, headers: Record<string, string>) => new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, path: p, method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    const cases = Array.from({ length: REQUESTS }, () => {
      const kind = int(10);
      const p = pick(paths);
      const headers: Record<string, string> = {};
      let text: string | Buffer;
      if (kind === 0) text = Buffer.from(Array.from({ length: int(300) }, () => int(256)));
      else if (kind === 1) text = JSON.stringify(good()).slice(0, int(200));
      else if (kind === 2) {
        text = JSON.stringify(good());
        headers['Inference-Header-Content-Length'] = pick([String(int(500)), '-1', 'abc', '1e3']);
      } else if (kind === 3) text = JSON.stringify(pick([{ instances: junk() }, { dataframe_split: junk() }, { dataframe_records: [junk()] }, { inputs: { input: junk() } }]));
      else text = JSON.stringify(mutate(good()) ?? null);
      return { p, body: Buffer.from(text), headers };
    });
    let at = 0;
    const problems: string[] = [];
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (at < cases.length) {
        const c = cases[at++];
        const res = await send(c.p, c.body, c.headers);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500 || res.status < 200) problems.push(`${res.status} for ${c.p} ${c.body.toString().slice(0, 120)}: ${res.text.slice(0, 200)}`);
        else if (res.status >= 400 && typeof JSON.parse(res.text).error !== 'string') problems.push(`${res.status} without an error message: ${res.text.slice(0, 200)}`);
      }
    }));
    agent.destroy();
    assert.deepEqual(problems.slice(0, 5), []);
    const fourxx = [...statuses].filter(([s]) => s >= 400).reduce((a, [, n]) => a + n, 0);
    assert.ok(fourxx > REQUESTS * 0.9, `4xx: ${fourxx} of ${REQUESTS} (${JSON.stringify([...statuses])})`);
    // Still up, and still right.
    const { rows } = breastCancer();
    const ok = await post(`${server.url}/v2/models/cancer/infer`, { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: standardise([rows[0]])[0] }] });
    assert.deepEqual((ok.json.outputs as { data: number[] }[])[0].data, (await fixtureProbabilities([rows[0]]))[0]);
  });
});
