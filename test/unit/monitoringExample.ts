// The monitoring example (examples/monitoring) set up as a newcomer's README does it, in a
// temporary copy: data prepared, a first model trained as a tracked run, registered as
// champion and deployed; plus its traffic script as a bounded load.
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
  /** Runs prepare.py with these arguments (--arrive: the new scanner's labelled cases). */
  prepare(...args: string[]): void;
}

/** A copy of the example (beside the quickstart data it reads) with v1 trained by its pipeline, champion, and deployed as "cancer". */
export async function exampleWorkspace(edit?: (yaml: string) => string): Promise<ExampleWorkspace> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-example-'));
  const root = path.join(tmp, 'examples', 'monitoring');
  fs.cpSync(path.join(repoRoot, 'examples', 'monitoring'), root, { recursive: true, filter: (f) => !/\.mlops|__pycache__|model\.onnx$|holdout\.csv$|[/\\]data$/.test(f) });
  fs.mkdirSync(path.join(tmp, 'examples', 'quickstart', 'data'), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'examples', 'quickstart', 'data', 'breast_cancer.csv'), path.join(tmp, 'examples', 'quickstart', 'data', 'breast_cancer.csv'));
  if (edit) fs.writeFileSync(path.join(root, 'mlops.yaml'), edit(fs.readFileSync(path.join(root, 'mlops.yaml'), 'utf8')));
  const prepare = (...args: string[]) => void execFileSync(PYTHON, ['prepare.py', ...args], { cwd: root });
  prepare();
  const project = await Project.open(root);
  const first = await runPipeline(root, { project });
  if (first.status !== 'succeeded') throw new Error(`the example's first training failed: ${JSON.stringify(first.stages)}`);
  await project.registerModel('cancer', 'model.onnx', first.stages[0].run);
  project.registry.setAlias('cancer', 'champion', 1);
  const running = await project.deployments.deploy(deploymentSpec('cancer', 'cancer@champion', { batching: { maxBatch: 8, maxDelayMs: 2 } }));
  after(async () => {
    await project.deployments.stopAll();
    project.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  return { root, project, url: running.status.url!, prepare };
}

export interface TrafficSummary { sent: number; failed: number; versions: Record<string, number> }

/** The example's traffic.py for up to `seconds` at `rate` requests/s (4 clients); `stop()` ends it and resolves with its JSON summary. */
export function traffic(example: ExampleWorkspace, seconds: number, rate = 40, newScanner = true): { stop(): Promise<TrafficSummary> } {
  const child = spawn(PYTHON, ['traffic.py', example.url, '--seconds', String(seconds), '--rate', String(rate), '--json', ...(newScanner ? ['--new-scanner'] : [])], { cwd: example.root });
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
    stop: () => {
      child.kill('SIGTERM');
      return done;
    },
  };
}

/** Waits until the deployment's prediction log holds at least `rows` predictions. */
export async function predictionsLogged(example: ExampleWorkspace, rows: number): Promise<void> {
  const file = path.join(example.root, '.mlops', 'serving', 'cancer', 'predictions.jsonl');
  const deadline = Date.now() + 120_000;
  while (!(fs.existsSync(file) && fs.readFileSync(file, 'utf8').split('\n').length > rows)) {
    if (Date.now() > deadline) throw new Error(`fewer than ${rows} predictions logged in 2 minutes`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
