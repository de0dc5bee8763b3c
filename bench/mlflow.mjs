#!/usr/bin/env node
// Benchmark of the MLflow-compatible endpoint: `node bench/mlflow.mjs` (loopback only, bounded).
//
// 1. log-batch throughput: 8 concurrent keep-alive clients each post the same 1000-metric
//    log-batch requests to (a) the endpoint, which validates them, appends them to the run's
//    event log and reads them into the index (large plain batches are parsed on its batch
//    reader thread), and (b) a bare Node HTTP server in the same run that only parses and
//    discards the same requests. Figure: metrics/s; goal ≥ 0.7× bare.
// 2. single log-metric request latency (one client, sequential): p50 and p99.
//
// Each server runs in its own child process (so the clients in this process do not share its
// CPU), and the rounds alternate between them. Imports the compiled engine from out/ (built
// first when missing, or with --build). The workspace is a temporary folder, deleted at the
// end. A missed goal prints MISSED; the exit code is 0 all the same.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { engine, ensureBuilt } from './lib/engine.mjs';
import { median } from './lib/stats.mjs';


const CLIENTS = 8;
const BATCH = 1000;
const BATCHES_PER_CLIENT = 150;
const ROUNDS = 7;
const LATENCY_REQUESTS = 2000;
const LATENCY_WARMUP = 200;
/** About what the endpoint's 50 ms index window holds under this load. */
const PER_TRANSACTION = 64;
const fmt = (n) => Math.round(n).toLocaleString('en-US');

// ---------------------------------------------------------------- child: a server
if (process.argv[2] === 'serve') {
  const kind = process.argv[3];
  if (kind === 'bare') {
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 2 });
        res.end('{}');
      });
    });
    server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, token: 'none' }));
  } else {
    const { Tracking } = engine('src/core/tracking/tracking.js');
    const { startMlflowServer } = engine('src/core/mlflow/index.js');
    const tracking = await Tracking.open(process.argv[4]);
    const ep = await startMlflowServer(tracking, {});
    const saver = setInterval(() => tracking.save(), 2000);
    process.on('message', async (m) => {
      if (m !== 'stop') return;
      clearInterval(saver);
      await ep.stop();
      tracking.close();
      process.exit(0);
    });
    process.send({ port: ep.server.port, token: ep.token });
  }
  // The bare server stops when its parent disconnects.
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

// ---------------------------------------------------------------- parent: the clients
function startServer(kind, root) {
  const child = fork(fileURLToPath(import.meta.url), ['serve', kind, root ?? ''], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (info) => resolve({ child, ...info }));
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
}

function stopServer(s) {
  return new Promise((resolve) => {
    s.child.removeAllListeners('exit');
    s.child.once('exit', resolve);
    if (s.child.connected) s.child.send('stop');
    s.child.disconnect?.();
    setTimeout(() => s.child.kill('SIGKILL'), 5000).unref();
  });
}

function post(agent, s, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: s.port, method: 'POST', path: urlPath, agent,
      headers: { Host: `127.0.0.1:${s.port}`, Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json', 'Content-Length': body.length },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${urlPath}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`));
        else resolve(Buffer.concat(chunks).toString());
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The requests of one client: `BATCHES_PER_CLIENT` log-batch bodies of 1000 metrics (10 keys × 100 steps each). */
function batchBodies(runId, client, round) {
  const bodies = [];
  for (let b = 0; b < BATCHES_PER_CLIENT; b++) {
    const metrics = [];
    const stepBase = ((round * CLIENTS + client) * BATCHES_PER_CLIENT + b) * 100;
    for (let i = 0; i < BATCH; i++) {
      metrics.push({ key: `metric_${i % 10}`, value: Math.sin(stepBase + i) * 0.5 + 0.5, timestamp: 1_764_322_800_000 + stepBase + i, step: stepBase + Math.floor(i / 10) });
    }
    bodies.push(Buffer.from(JSON.stringify({ run_id: runId, metrics })));
  }
  return bodies;
}

async function throughput(s, runId, round) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const work = Array.from({ length: CLIENTS }, (_, c) => batchBodies(runId, c, round));
  const t = performance.now();
  await Promise.all(work.map(async (bodies) => {
    for (const body of bodies) await post(agent, s, '/api/2.0/mlflow/runs/log-batch', body);
  }));
  const seconds = (performance.now() - t) / 1000;
  agent.destroy();
  return (CLIENTS * BATCHES_PER_CLIENT * BATCH) / seconds;
}

async function latency(s, runId) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times = [];
  for (let i = 0; i < LATENCY_WARMUP + LATENCY_REQUESTS; i++) {
    const body = Buffer.from(JSON.stringify({ run_id: runId, run_uuid: runId, key: 'latency_probe', value: i / 7, timestamp: 1_764_322_900_000 + i, step: i }));
    const t = performance.now();
    await post(agent, s, '/api/2.0/mlflow/runs/log-metric', body);
    if (i >= LATENCY_WARMUP) times.push(performance.now() - t);
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)], p99: times[Math.floor(times.length * 0.99)] };
}

/**
 * Where the time of one 1000-metric log-batch goes, measured in this process on the engine itself
 * (no HTTP, no thread hop), both ways the endpoint can take: a large plain batch is read on the
 * batch reader thread (plainBatch.ts) and stored on the main thread; any other is read, checked
 * and stored on the main thread (logBatch).
 */
async function breakdown(work) {
  const { Tracking } = engine('src/core/tracking/tracking.js');
  const { MlflowBackend } = engine('src/core/mlflow/backend.js');
  const { RequestMessage } = engine('src/core/mlflow/request.js');
  const { readPlainBatch } = engine('src/core/mlflow/plainBatch.js');
  const root = path.join(work, 'breakdown');
  fs.mkdirSync(root);
  const tracking = await Tracking.open(root);
  const backend = new MlflowBackend(tracking, { indexDelayMs: 3_600_000 });
  const runId = backend.createRun(new RequestMessage({ experiment_id: '0' })).run.info.run_id;
  const bodies = [];
  for (let r = 0; r < 8; r++) for (let c = 0; c < CLIENTS; c++) bodies.push(...batchBodies(runId, c, r + 10).slice(0, 10));
  const n = bodies.length;
  const timed = (each) => {
    let ms = 0;
    let index = 0;
    bodies.forEach((body, i) => {
      let t = performance.now();
      each(body, i);
      ms += performance.now() - t;
      if (i % PER_TRANSACTION === PER_TRANSACTION - 1) {
        t = performance.now();
        backend.flush();
        index += performance.now() - t;
      }
    });
    return { each: ms / n, index: index / n };
  };
  const parse = timed((body) => JSON.parse(body.toString()));
  const plains = [];
  const thread = timed((body, i) => (plains[i] = readPlainBatch(body)));
  const store = timed((_body, i) => backend.logPlainBatch(plains[i]));
  const oneThread = timed((body) => backend.logBatch(new RequestMessage(JSON.parse(body.toString()))));
  backend.dispose();
  tracking.close();
  console.log(`\n== Cost of one ${BATCH}-metric log-batch in the engine (${n} batches, no HTTP; ${plains[0].summaries.length} keys)`);
  const row = (label, value) => console.log(`  ${label.padEnd(64)} ${value.toFixed(3)} ms`);
  row('JSON.parse of the body (all the bare server does)', parse.each);
  row('batch reader thread: parse, check, summarise per key', thread.each);
  row('main thread: check the run, write the line, merge (answered)', store.each);
  row(`main thread: commit to the index (${PER_TRANSACTION} requests per transaction)`, store.index);
  row('without the thread, main thread: parse, check, write, apply', oneThread.each);
}

async function main() {
  ensureBuilt(['src/core/mlflow/index.js']);
  const work = fs.mkdtempSync(path.join(process.env.MLOPS_BENCH_DIR || os.tmpdir(), 'mlops-mlflow-bench-'));
  console.log('MLOps Workbench — MLflow endpoint benchmark');
  console.log(`  node ${process.version}, ${os.cpus().length} CPU × ${os.cpus()[0]?.model?.trim() ?? '?'}, ${os.platform()}`);
  console.log(`  ${CLIENTS} clients × ${BATCHES_PER_CLIENT} log-batch requests × ${BATCH} metrics per round, ${ROUNDS} rounds per server after one warm-up round each, alternating; loopback only\n`);
  try {
    const mlops = await startServer('mlops', work);
    const bare = await startServer('bare');
    const created = JSON.parse(await post(undefined, mlops, '/api/2.0/mlflow/runs/create', Buffer.from(JSON.stringify({ experiment_id: '0', run_name: 'bench' }))));
    const runId = created.run.info.run_id;
    const ours = [];
    const base = [];
    // One uncounted round each first: both servers' code is compiled and warm when measured.
    await throughput(bare, runId, ROUNDS);
    await throughput(mlops, runId, ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      base.push(await throughput(bare, runId, round));
      ours.push(await throughput(mlops, runId, round));
      console.log(`  round ${round + 1}: endpoint ${fmt(ours[round])} metrics/s, bare server ${fmt(base[round])} metrics/s`);
    }
    const lat = await latency(mlops, runId);
    const bareLat = await latency(bare, runId);
    // Every point reached the run: its history holds them all.
    const history = JSON.parse(await new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: mlops.port, path: `/api/2.0/mlflow/runs/get?run_id=${runId}`, headers: { Authorization: `Bearer ${mlops.token}` } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    }));
    const logBytes = fs.statSync(path.join(work, '.mlops', 'runs', runId, 'events.jsonl')).size;
    await stopServer(mlops);
    await stopServer(bare);

    const ratio = median(ours) / median(base);
    console.log('\n== Results (medians of the rounds)');
    console.log(`  log-batch throughput, endpoint      ${fmt(median(ours))} metrics/s`);
    console.log(`  log-batch throughput, bare server   ${fmt(median(base))} metrics/s (parses and discards)`);
    console.log(`  ratio                               ${ratio.toFixed(2)}× (goal ≥ 0.70×) ${ratio >= 0.7 ? 'met' : 'MISSED'}`);
    console.log(`  log-metric latency, endpoint        p50 ${lat.p50.toFixed(3)} ms, p99 ${lat.p99.toFixed(3)} ms (${LATENCY_REQUESTS} sequential requests)`);
    console.log(`  log-metric latency, bare server     p50 ${bareLat.p50.toFixed(3)} ms, p99 ${bareLat.p99.toFixed(3)} ms`);
    console.log(`  run after the bench: ${history.run.data.metrics.length} metric keys, event log ${(logBytes / 1024 / 1024).toFixed(1)} MB`);
    await breakdown(work);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
