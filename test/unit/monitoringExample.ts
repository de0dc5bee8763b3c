// The monitoring example (examples/monitoring) set up as a newcomer's README does it, in a
// temporary copy: data prepared, a first model trained as a tracked run, registered as
// champion and deployed; plus its traffic script as a bounded load.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
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

/** A copy of the example (beside the quickstart data it reads) with v1 trained, champion, and deployed as "cancer". */
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
  const run = await project.launch({ command: PYTHON, args: ['train.py'], cwd: root, source: 'command' });
  const outcome = await run.finished;
  if (outcome.status !== 'FINISHED') throw new Error(`the example's first training failed: ${fs.readFileSync(path.join(run.runDir, 'artifacts', 'output.log'), 'utf8')}`);
  await project.registerModel('cancer', 'model.onnx', run.runId);
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

/** The example's traffic.py for `seconds` at `rate` requests/s (4 clients); resolves with its JSON summary. */
export function traffic(example: ExampleWorkspace, seconds: number, rate = 40, newScanner = true): Promise<TrafficSummary> {
  const child = spawn(PYTHON, ['traffic.py', example.url, '--seconds', String(seconds), '--rate', String(rate), '--json', ...(newScanner ? ['--new-scanner'] : [])], { cwd: example.root });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d; });
  child.stderr.on('data', (d: Buffer) => { out += d; });
  return new Promise((resolve, reject) => child.on('close', () => {
    try {
      resolve(JSON.parse(out.trim().split('\n').pop()!) as TrafficSummary);
    } catch {
      reject(new Error(`traffic.py printed no summary: ${out}`));
    }
  }));
}
