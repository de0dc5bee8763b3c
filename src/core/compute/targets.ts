import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from '../workspace/config';

/** This machine: a run here is an ordinary tracked run. */
export interface LocalTarget { name: string; type: 'local' }

/** A host reached through the system OpenSSH client, so ProxyJump, agents and keys work as in a terminal. */
export interface SshTarget {
  name: string;
  type: 'ssh';
  /** A Host from ~/.ssh/config (or from `config`), or user@hostname. */
  host: string;
  /** An ssh config file to use instead of ~/.ssh/config (ssh -F). */
  config?: string;
  /** Where per-run folders are made on the host (default ~/.mlops-runs). */
  workdir?: string;
  /** The Python that runs scripts and notebooks started from the editor, and notebooks (default python3): a venv's or conda env's, e.g. ~/envs/torch/bin/python. */
  python?: string;
}

/** A Slurm cluster: sbatch here, or on `host` over ssh. */
export interface SlurmTarget {
  name: string;
  type: 'slurm';
  host?: string;
  config?: string;
  /** Where per-run folders are made, on a file system the compute nodes share (default ~/.mlops-runs). */
  workdir?: string;
  partition?: string;
  gpus?: string;
  time?: string;
  cpus?: number;
  memory?: string;
  /** The Python that runs scripts and notebooks started from the editor, and notebooks (default python3): a venv's or conda env's, e.g. ~/envs/torch/bin/python. */
  python?: string;
}

/** A Kubernetes cluster through kubectl: each run is a Job whose container needs sh, tar and python3. */
export interface KubernetesTarget {
  name: string;
  type: 'kubernetes';
  /** A context of the kubeconfig (default: kubectl's current context). */
  context?: string;
  namespace?: string;
  /** The container image the Job runs in; it must have sh, tar and python3. */
  image: string;
  /** `nvidia.com/gpu` requested (and limited) per run. */
  gpus?: number;
  /** Kubernetes quantities, e.g. cpus "4" or "500m", memory "16Gi". */
  cpus?: string;
  memory?: string;
  /** The Python that runs scripts and notebooks started from the editor, and notebooks (default python3): a venv's or conda env's, e.g. /opt/conda/bin/python. */
  python?: string;
}

/** Where a target was declared: mlops.yaml (the project's, shared), or the user's settings (their own hosts). */
export type TargetOrigin = 'built in' | 'user settings' | 'mlops.yaml';

export type Target = (LocalTarget | SshTarget | SlurmTarget | KubernetesTarget) & { declaredIn?: TargetOrigin };

/**
 * The user's own targets as JSON (name → the settings a `targets:` entry takes): the editor puts its
 * `mlops.targets` setting here, for itself, the language server and its terminals; a CLI user may set it by hand.
 */
export const USER_TARGETS_VARIABLE = 'MLOPS_TARGETS';
const USER_SOURCE = `the user settings' targets (mlops.targets, or $${USER_TARGETS_VARIABLE})`;

const TYPES: Target['type'][] = ['local', 'ssh', 'slurm', 'kubernetes'];
const EXAMPLE = 'targets:\n  gpu-box:\n    type: ssh\n    host: gpu-box   # a Host in ~/.ssh/config';

/** The Python a target runs scripts and notebooks with: its `python`, else python3 from the PATH there. */
export function targetPython(target: Target): string {
  return ('python' in target && target.python) || 'python3';
}

/** Where per-run (and per-deployment) folders are made on a host whose target sets no `workdir`. */
export function targetWorkdir(target: SshTarget | SlurmTarget): string {
  return target.workdir ?? '~/.mlops-runs';
}

/** `local` is always there; the user's settings add targets, and mlops.yaml's `targets:` adds (or overrides, by name) the rest. */
export function readTargets(root: string): Target[] {
  const file = path.join(root, 'mlops.yaml');
  let doc: unknown = {};
  if (fs.existsSync(file)) {
    try {
      doc = parse(fs.readFileSync(file, 'utf8')) ?? {};
    } catch (err) {
      throw new ConfigError(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}. Fix the file or remove it.`);
    }
  }
  const declared = (doc as Record<string, unknown> | null)?.targets;
  const targets = new Map<string, Target>([['local', { name: 'local', type: 'local', declaredIn: 'built in' }]]);
  // A user's ssh config path is theirs, so it is read from their home folder, not the project.
  for (const [name, value] of Object.entries(userTargetSettings())) targets.set(name, { ...parseTarget(name, value, USER_SOURCE, os.homedir()), declaredIn: 'user settings' });
  if (declared === undefined || declared === null) return [...targets.values()];
  if (typeof declared !== 'object' || Array.isArray(declared)) {
    throw new ConfigError(`${file}: "targets" must be a mapping of target names to settings, e.g.\n${EXAMPLE}`);
  }
  for (const [name, value] of Object.entries(declared)) targets.set(name, { ...parseTarget(name, value, file, root), declaredIn: 'mlops.yaml' });
  return [...targets.values()];
}

/** The names of the user's targets, for checks that must not fail on a bad entry (the language server's). */
export function userTargetNames(): string[] {
  try {
    return Object.keys(userTargetSettings());
  } catch {
    return [];
  }
}

function userTargetSettings(): Record<string, unknown> {
  const text = process.env[USER_TARGETS_VARIABLE];
  if (!text?.trim()) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${USER_SOURCE} are not valid JSON (${(err as Error).message}). Fix the setting, or unset the variable.`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ConfigError(`${USER_SOURCE} must be an object of target names to settings, e.g. {"gpu-box": {"type": "ssh", "host": "gpu-box"}}.`);
  }
  return doc as Record<string, unknown>;
}

export function findTarget(root: string, name: string): Target {
  const targets = readTargets(root);
  const target = targets.find((t) => t.name === name);
  if (!target) throw new ConfigError(`No target "${name}": declared targets are ${targets.map((t) => t.name).join(', ')}. Add it under "targets:" in mlops.yaml, or to your user settings (mlops.targets).`);
  return target;
}

/** One entry of `targets:`; a ConfigError naming the target and the fix when it is wrong (the language server shows it in place). */
export function parseTarget(name: string, value: unknown, file: string, root: string): Target {
  const where = `${file}: target "${name}"`;
  if (!/^[A-Za-z0-9][\w.-]*$/.test(name)) throw new ConfigError(`${where}: a name may hold letters, digits, ".", "_" and "-" only.`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where} must be a mapping, e.g.\n${EXAMPLE}`);
  const v = value as Record<string, unknown>;
  const declaredType = v.type ?? (v.host ? 'ssh' : undefined);
  if (!TYPES.includes(declaredType as Target['type'])) throw new ConfigError(`${where}: "type" must be one of ${TYPES.join(', ')} (got ${JSON.stringify(v.type)}).`);
  const type = declaredType as Target['type'];
  const text = (key: string, required = false): string | undefined => {
    const x = v[key];
    if (x === undefined || x === null) {
      if (required) throw new ConfigError(`${where} (${type}) needs "${key}", e.g.\n${EXAMPLE}`);
      return undefined;
    }
    if (typeof x !== 'string' && typeof x !== 'number') throw new ConfigError(`${where}: "${key}" must be a text value.`);
    const s = String(x).trim();
    if (s.startsWith('-')) throw new ConfigError(`${where}: "${key}" may not start with "-".`);
    return s;
  };
  const configFile = (): string | undefined => {
    const c = text('config');
    if (c === undefined) return undefined;
    const resolved = path.resolve(root, c.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
    if (!fs.existsSync(resolved)) throw new ConfigError(`${where}: the ssh config file ${resolved} does not exist. Fix "config" or remove it to use ~/.ssh/config.`);
    return resolved;
  };
  if (type === 'local') return { name, type };
  if (type === 'ssh') return { name, type, host: text('host', true)!, config: configFile(), workdir: text('workdir'), ...optionalPython(text) };
  if (type === 'kubernetes') return kubernetesTarget(name, v, where, text);
  const cpus = v.cpus;
  if (cpus !== undefined && !(Number.isInteger(cpus) && (cpus as number) > 0)) throw new ConfigError(`${where}: "cpus" must be a whole number above 0.`);
  const time = text('time');
  if (time !== undefined && !/^(\d+-)?\d+(:\d{2}){0,2}$/.test(time)) throw new ConfigError(`${where}: "time" must be a Slurm time limit such as 30, 2:00:00 or 1-12:00:00.`);
  return {
    name, type, host: text('host'), config: configFile(), workdir: text('workdir'), partition: text('partition'), gpus: text('gpus'),
    time, cpus: cpus as number | undefined, memory: text('memory'), ...optionalPython(text),
  };
}

/** `python` when set: a path on the host (`~/` is its home there) or a command on its PATH. */
function optionalPython(text: (key: string) => string | undefined): { python?: string } {
  const python = text('python');
  return python ? { python } : {};
}

const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
const K8S_EXAMPLE = 'targets:\n  cluster:\n    type: kubernetes\n    image: python:3.12-slim\n    gpus: 1';

function kubernetesTarget(name: string, v: Record<string, unknown>, where: string, text: (key: string) => string | undefined): KubernetesTarget {
  const image = text('image');
  if (!image) throw new ConfigError(`${where} (kubernetes) needs "image": one with sh, tar and python3, e.g.\n${K8S_EXAMPLE}`);
  const gpus = v.gpus;
  if (gpus !== undefined && !(Number.isInteger(gpus) && (gpus as number) >= 0)) throw new ConfigError(`${where}: "gpus" must be a whole number of nvidia.com/gpu (0 or more).`);
  const quantity = (key: string, example: string): string | undefined => {
    const q = text(key);
    if (q !== undefined && !QUANTITY.test(q)) throw new ConfigError(`${where}: "${key}" must be a Kubernetes quantity such as ${example} (got ${JSON.stringify(q)}).`);
    return q;
  };
  const namespace = text('namespace');
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) throw new ConfigError(`${where}: "namespace" must be a Kubernetes name (lower-case letters, digits and "-").`);
  return { name, type: 'kubernetes', context: text('context'), namespace, image, gpus: gpus as number | undefined, cpus: quantity('cpus', '4 or 500m'), memory: quantity('memory', '16Gi'), ...optionalPython(text) };
}
