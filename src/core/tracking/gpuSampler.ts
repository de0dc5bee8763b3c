import { execFile } from 'node:child_process';
import type { MetricPointJson } from './events';
import { appendEvents } from './eventWriter';

/**
 * What is sampled during a run, one line per GPU: `index, utilization.gpu, memory.used, power.draw`
 * (the form of test/fixtures/gpu-host/nvidia-smi-busy.csv). runner.py asks the same on a remote host.
 */
export const GPU_SAMPLE_ARGS = ['--query-gpu=index,utilization.gpu,memory.used,power.draw', '--format=csv,noheader,nounits'];
/** Seconds between samples; 0 turns sampling off. Read from the run's environment, so one knob serves every runner. */
export const GPU_SAMPLE_ENV = 'MLOPS_GPU_SAMPLE_SECONDS';
export const DEFAULT_GPU_SAMPLE_SECONDS = 10;

const METRICS = ['utilization', 'memory_used_mib', 'power_w'] as const;

/** The sample as system metrics: `system/gpu<i>/utilization` (%), `…/memory_used_mib`, `…/power_w`; "[N/A]" fields are left out. */
export function gpuSamplePoints(csv: string, step: number, time: number): MetricPointJson[] {
  const points: MetricPointJson[] = [];
  for (const line of csv.split(/\r?\n/)) {
    const [index, ...values] = line.split(',').map((c) => c.trim());
    if (!/^\d+$/.test(index) || values.length < METRICS.length) continue;
    METRICS.forEach((name, i) => {
      const value = Number(values[i]);
      if (values[i] !== '' && Number.isFinite(value)) points.push([`system/gpu${index}/${name}`, value, step, time]);
    });
  }
  return points;
}

/** The interval from the environment (MLOPS_GPU_SAMPLE_SECONDS), or the default; 0 or less: off. */
export function gpuSampleSeconds(env: NodeJS.ProcessEnv): number {
  const text = env[GPU_SAMPLE_ENV];
  const n = text === undefined || text.trim() === '' ? DEFAULT_GPU_SAMPLE_SECONDS : Number(text);
  return Number.isFinite(n) ? n : DEFAULT_GPU_SAMPLE_SECONDS;
}

/**
 * Samples nvidia-smi every `seconds` into the run's event log while a run is active. A machine
 * without nvidia-smi (or whose nvidia-smi fails) is not sampled again: it has no GPU to show.
 */
export function startGpuSampler(eventsFile: string, seconds: number): { stop(): Promise<void> } {
  if (!(seconds > 0)) return { stop: async () => undefined };
  let step = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const sample = (): Promise<void> => new Promise((resolve) => {
    execFile('nvidia-smi', GPU_SAMPLE_ARGS, { timeout: 15_000, encoding: 'utf8' }, (err, stdout) => {
      if (err) {
        // No GPU here (ENOENT) or a driver that fails: nothing more to sample. A slow answer only loses this sample.
        if (!err.killed) stopped = true;
        return resolve();
      }
      try {
        const points = gpuSamplePoints(stdout, step++, Date.now());
        if (points.length) appendEvents(eventsFile, [{ type: 'metrics', points }]);
      } catch {
        // A full disk: this sample is lost; the run and its own events matter more.
      }
      resolve();
    });
  });
  const tick = (): void => {
    if (stopped) return;
    inFlight = sample().then(() => {
      if (!stopped) timer = setTimeout(tick, seconds * 1000);
    });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
