import * as fs from 'node:fs';
import * as http from 'node:http';
import type { TensorMetadata } from './modelSession';

export interface LoadTestOptions {
  /** The deployment's base URL (loopback). */
  url: string;
  token?: string;
  /** The server process, whose CPU time turns req/s into req/s per core. */
  pid?: number;
  /** Highest acceptable p99, ms (default 50). */
  p99Ms?: number;
  /** Rate the user needs, req/s: the report says how many instances that takes. */
  targetRps?: number;
  /** $ per core-hour, for the cost per million predictions. */
  coreHourUsd?: number;
  /** Seconds per rate step (default 3). */
  stepSeconds?: number;
  /** The load never goes past this rate or this many requests in flight. */
  maxRps?: number;
  maxInFlight?: number;
  onStep?: (s: LoadStep) => void;
}

export interface LoadStep {
  /** Offered rate, req/s. */
  rate: number;
  /** Answered rate, req/s. */
  achieved: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Cores the server process used during the step. */
  cores?: number;
}

/** What an early deployment tells you about capacity and cost. */
export interface CapacityReport {
  time: number;
  /** The deployment measured and the model versions it served then (the model card finds its version here). */
  deployment?: string;
  served?: { model: string; version: string; variant: string; registered?: boolean }[];
  p99TargetMs: number;
  steps: LoadStep[];
  /** The highest offered rate answered in full, with p99 under the target. */
  maxRps: number;
  p50Ms: number;
  p99Ms: number;
  rpsPerCore?: number;
  targetRps?: number;
  instances?: number;
  coreHourUsd?: number;
  costPerMillionUsd?: number;
}

function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ 100)
  } catch {
    return undefined;
  }
}

/** One row of uniform noise for every input, as an OIP infer body. */
function sampleBody(inputs: TensorMetadata[]): Buffer {
  return Buffer.from(JSON.stringify({
    inputs: inputs.map((i) => {
      const shape = i.shape.map((d) => (d < 0 ? 1 : d));
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Array.from({ length: n }, () => (i.datatype === 'BYTES' ? 'x' : i.datatype === 'BOOL' ? false : i.datatype.startsWith('FP') ? Math.random() : 1));
      return { name: i.name, shape, datatype: i.datatype, data };
    }),
  }));
}

/** Sends `rate` req/s (open loop) for `seconds`; latencies of the answered ones. */
async function step(options: LoadTestOptions, path: string, body: Buffer, rate: number, seconds: number, agent: http.Agent): Promise<LoadStep> {
  const { url, token, pid } = options;
  const { hostname, port } = new URL(url);
  const maxInFlight = options.maxInFlight ?? 256;
  const times: number[] = [];
  let errors = 0;
  let inFlight = 0;
  const cpu0 = pid ? cpuSeconds(pid) : undefined;
  const t0 = performance.now();
  const total = Math.round(rate * seconds);
  const done: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= maxInFlight) {
      errors++; // the server is not keeping up: count it as a failure of this rate
      continue;
    }
    inFlight++;
    const sent = performance.now();
    done.push(new Promise<void>((resolve) => {
      const req = http.request({ hostname, port, path, method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, ...(token ? { Authorization: `Bearer ${token}` } : {}) } }, (res) => {
        res.resume();
        res.on('end', () => {
          inFlight--;
          if (res.statusCode === 200) times.push(performance.now() - sent);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => { inFlight--; errors++; resolve(); });
      req.end(body);
    }));
  }
  await Promise.all(done);
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = pid ? cpuSeconds(pid) : undefined;
  times.sort((a, b) => a - b);
  const pct = (p: number) => (times.length ? times[Math.min(times.length - 1, Math.floor(times.length * p))] : Infinity);
  return {
    rate, achieved: times.length / wall, p50Ms: pct(0.5), p99Ms: pct(0.99), errors,
    ...(cpu0 !== undefined && cpu1 !== undefined ? { cores: (cpu1 - cpu0) / wall } : {}),
  };
}

/**
 * A bounded loopback load at increasing rates (×1.5 a step) until p99 passes the target, a
 * request fails, or the server stops keeping up; reports the highest good rate, req/s per core,
 * instances for a target rate, and the cost per million predictions.
 */
export async function loadTest(options: LoadTestOptions, model: string, inputs: TensorMetadata[]): Promise<CapacityReport> {
  const p99TargetMs = options.p99Ms ?? 50;
  const seconds = options.stepSeconds ?? 3;
  const maxRps = options.maxRps ?? 50_000;
  const path = `/v2/models/${encodeURIComponent(model)}/infer`;
  const body = sampleBody(inputs);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxInFlight ?? 256 });
  const steps: LoadStep[] = [];
  let best: LoadStep | undefined;
  try {
    for (let rate = 20; rate <= maxRps; rate = Math.ceil(rate * 1.5)) {
      const s = await step(options, path, body, rate, seconds, agent);
      steps.push(s);
      options.onStep?.(s);
      // A rate the server cannot keep up with shows as growing latency (p99) or as the in-flight cap (errors).
      const good = s.errors === 0 && s.p99Ms <= p99TargetMs;
      if (!good) break;
      best = s;
    }
  } finally {
    agent.destroy();
  }
  const report: CapacityReport = { time: Date.now(), p99TargetMs, steps, maxRps: best?.rate ?? 0, p50Ms: best?.p50Ms ?? NaN, p99Ms: best?.p99Ms ?? NaN };
  if (best?.cores && best.cores > 0) {
    report.rpsPerCore = best.rate / best.cores;
    if (options.coreHourUsd !== undefined) {
      report.coreHourUsd = options.coreHourUsd;
      report.costPerMillionUsd = (options.coreHourUsd / 3600 / report.rpsPerCore) * 1e6;
    }
  }
  if (options.targetRps !== undefined && best) {
    report.targetRps = options.targetRps;
    report.instances = Math.ceil(options.targetRps / best.rate);
  }
  return report;
}
