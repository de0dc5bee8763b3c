import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Capture } from './events';
import { currentUser } from '../workspace/user';
import { NVIDIA_SMI_ARGS, parseGpuQuery } from './gpus';

/** Output of a command, or undefined when it is missing, fails or takes too long. */
export function commandOutput(command: string, args: string[], cwd: string, timeoutMs = 10_000, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout) => {
      resolve(err ? undefined : stdout);
    });
  });
}

/** Interpreter path, version and installed packages, asked of the interpreter itself (works without pip). */
const PYTHON_PROBE = `
import json, sys
out = {"path": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3], "packages": []}
try:
    import importlib.metadata as md
    names = {}
    for d in md.distributions():
        n = d.metadata["Name"]
        if n and n.lower() not in names:
            names[n.lower()] = "%s==%s" % (n, d.version)
    out["packages"] = sorted(names.values(), key=str.lower)
except Exception:
    pass
print(json.dumps(out))
`;

export async function capturePython(python: string, cwd: string, withPackages: boolean): Promise<Pick<Capture, 'python' | 'packages'>> {
  const text = await commandOutput(python, ['-c', PYTHON_PROBE], cwd);
  if (!text) return {};
  try {
    const probe = JSON.parse(text) as { path: string; version: string; packages: string[] };
    return { python: { path: probe.path, version: probe.version }, ...(withPackages ? { packages: probe.packages } : {}) };
  } catch {
    return {};
  }
}

/** Commit, branch and dirty flag; the uncommitted diff is written to `diffFile` when the tree is dirty. */
export async function captureGit(cwd: string, diffFile: string): Promise<Capture['git']> {
  const commit = (await commandOutput('git', ['rev-parse', 'HEAD'], cwd))?.trim();
  if (!commit) return undefined;
  const branch = (await commandOutput('git', ['rev-parse', '--abbrev-ref', 'HEAD'], cwd))?.trim() ?? '';
  const status = (await commandOutput('git', ['status', '--porcelain', '--untracked-files=no'], cwd)) ?? '';
  const dirty = status.trim().length > 0;
  if (!dirty) return { commit, branch, dirty };
  const diff = (await commandOutput('git', ['diff', 'HEAD', '--binary'], cwd)) ?? '';
  fs.mkdirSync(path.dirname(diffFile), { recursive: true });
  fs.writeFileSync(diffFile, diff);
  return { commit, branch, dirty, diff_artifact: path.basename(diffFile) };
}

export async function captureGpus(cwd: string): Promise<Capture['gpus']> {
  const text = await commandOutput('nvidia-smi', NVIDIA_SMI_ARGS, cwd, 5000);
  const gpus = text ? parseGpuQuery(text) : [];
  return gpus.length ? gpus : undefined;
}

export interface CaptureRequest {
  argv: string[];
  cwd: string;
  pid?: number;
  /** The interpreter to ask for its version and packages, when the command is Python. */
  python?: string;
  packages: boolean;
  diffFile: string;
}

/** Everything recorded about where and how a run was started (docs/event-log.md, `capture`). */
export async function captureEnvironment(req: CaptureRequest): Promise<Capture> {
  const [py, git, gpus] = await Promise.all([
    req.python ? capturePython(req.python, req.cwd, req.packages) : Promise.resolve({}),
    captureGit(req.cwd, req.diffFile),
    captureGpus(req.cwd),
  ]);
  const capture: Capture = { argv: req.argv, cwd: req.cwd, host: os.hostname(), user: currentUser(), ...py };
  if (req.pid !== undefined) capture.pid = req.pid;
  if (git) capture.git = git;
  if (gpus) capture.gpus = gpus;
  return capture;
}

/** Whether a command runs a Python interpreter (python, python3, python3.11, a venv's python). */
export function isPythonCommand(command: string): boolean {
  return /^python(\d+(\.\d+)?)?(\.exe)?$/i.test(path.basename(command));
}
