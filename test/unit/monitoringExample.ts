// The monitoring example (examples/monitoring) set up as a newcomer's README does it, in a
// temporary copy: data prepared, a first model trained as a tracked run by its pipeline stage,
// registered and deployed; plus its traffic script as a bounded load. Two models: the cancer
// classifier (injected shift, retraining loop) and the weather one (seattle-weather.csv).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { runPipeline } from '../../src/core/pipelines/run';
import { Project } from '../../src/core/project';
import { deploymentSpec } from '../../src/core/serving/deployments';
import { repoRoot } from './helpers';
import { PYTHON } from './validationHelpers';

export interface ExampleWorkspace {
  root: string;
  project: Project;
  url: string;
  /** The deployment (and model) name: cancer or weather. */
  deployment: string;
  /** Runs prepare.py with these arguments (--arrive: the new scanner's labelled cases). */
  prepare(...args: string[]): void;
}

/**
 * A copy of the example beside the data it reads from the project (the quickstart's
 * breast-cancer CSV; vega-datasets' seattle-weather.csv where weather.py looks for it), with
 * `model` trained by its pipeline stage, registered (v1, champion) and deployed under its name.
 */
async function deployedExample(model: 'cancer' | 'weather', stage: string, file: string, edit?: (yaml: string) => string): Promise<ExampleWorkspace> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-example-'));
  const root = path.join(tmp, 'examples', 'monitoring');
  fs.cpSync(path.join(repoRoot, 'examples', 'monitoring'), root, { recursive: true, filter: (f) => !/\.mlops|__pycache__|\.onnx$|holdout\.csv$|[/\\](data|weather)$/.test(f) });
  for (const data of [['examples', 'quickstart', 'data', 'breast_cancer.csv'], ['node_modules', 'vega-datasets', 'data', 'seattle-weather.csv']]) {
    fs.mkdirSync(path.join(tmp, ...data.slice(0, -1)), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, ...data), path.join(tmp, ...data));
  }
  if (edit) fs.writeFileSync(path.join(root, 'mlops.yaml'), edit(fs.readFileSync(path.join(root, 'mlops.yaml'), 'utf8')));
  const prepare = (...args: string[]) => void execFileSync(PYTHON, ['prepare.py', ...args], { cwd: root });
  prepare();
  const project = await Project.open(root);
  const first = await runPipeline(root, { project, stage });
  if (first.status !== 'succeeded') throw new Error(`the example's first training failed: ${JSON.stringify(first.stages)}`);
  await project.registerModel(model, file, first.stages.find((s) => s.name === stage)!.run);
  project.registry.setAlias(model, 'champion', 1);
  const running = await project.deployments.deploy(deploymentSpec(model, `${model}@champion`, { batching: { maxBatch: 8, maxDelayMs: 2 } }));
  after(async () => {
    await project.deployments.stopAll();
    project.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  return { root, project, url: running.status.url!, deployment: model, prepare };
}

/** The cancer classifier: v1 trained by the train stage, champion, deployed as "cancer". */
export function exampleWorkspace(edit?: (yaml: string) => string): Promise<ExampleWorkspace> {
  return deployedExample('cancer', 'train', 'model.onnx', edit);
}

/** The weather model: 2012's days (weather-days stage), v1 trained by the weather stage, deployed as "weather". */
export function weatherWorkspace(): Promise<ExampleWorkspace> {
  return deployedExample('weather', 'weather', 'weather.onnx');
}

export interface TrafficSummary { sent: number; failed: number; versions: Record<string, number> }

/** The example's traffic.py for up to `seconds` at `rate` requests/s (4 clients); `stop()` ends it and resolves with its JSON summary. */
export function traffic(example: ExampleWorkspace, seconds: number, rate = 40, newScanner = true): { stop(): Promise<TrafficSummary> } {
  return trafficScript(example, ['--seconds', String(seconds), '--rate', String(rate), ...(newScanner ? ['--new-scanner'] : [])]);
}

/** traffic.py --weather: the days of `period` to the weather deployment, `requests` in all; resolves when all were answered. */
export function weatherTraffic(example: ExampleWorkspace, period: string, requests: number): Promise<TrafficSummary> {
  return trafficScript(example, ['--weather', period, '--requests', String(requests), '--rate', '200']).done;
}

function trafficScript(example: ExampleWorkspace, args: string[]): { stop(): Promise<TrafficSummary>; done: Promise<TrafficSummary> } {
  const child = spawn(PYTHON, ['traffic.py', example.url, '--json', ...args], { cwd: example.root });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d; });
  child.stderr.on('data', (d: Buffer) => { out += d; });
  const done = new Promise<TrafficSummary>((resolve, reject) => child.on('close', () => {
    try {
      resolve(JSON.parse(out.trim().split('\n').pop()!) as TrafficSummary);
    } catch {
      reject(new Error(`traffic.py printed no summary: ${out}`));
    }
  }));
  after(() => { child.kill('SIGKILL'); });
  return {
    done,
    stop: () => {
      child.kill('SIGTERM');
      return done;
    },
  };
}

/** Waits until the deployment's prediction log holds at least `rows` predictions. */
export async function predictionsLogged(example: ExampleWorkspace, rows: number): Promise<void> {
  const file = path.join(example.root, '.mlops', 'serving', example.deployment, 'predictions.jsonl');
  const deadline = Date.now() + 120_000;
  while (!(fs.existsSync(file) && fs.readFileSync(file, 'utf8').split('\n').length > rows)) {
    if (Date.now() > deadline) throw new Error(`fewer than ${rows} predictions logged in 2 minutes`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
