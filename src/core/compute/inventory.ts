import type { GpuInfo } from '../tracking/events';
import { NVIDIA_SMI_ARGS, NVIDIA_SMI_PROCESS_ARGS, parseGpuProcesses, parseGpuQuery, type GpuProcess } from '../tracking/gpus';
import { runOnTarget, targetFailure, type ShellTarget } from './shell';

export interface TargetCheck { host: string; python: string | null; tar: boolean; nvidiaSmi: boolean; problems: string[] }

/** What a run needs on the host (sh, tar, python3), and whether it has GPUs to report. */
export async function testTarget(target: ShellTarget): Promise<TargetCheck> {
  const script = 'uname -n; command -v tar >/dev/null && echo tar=yes || echo tar=no; '
    + 'python3 -c "import sys; print(\'python=%d.%d.%d\' % sys.version_info[:3])" 2>/dev/null || echo python=; '
    + 'command -v nvidia-smi >/dev/null && echo nvidia-smi=yes || echo nvidia-smi=no';
  const result = await runOnTarget(target, script);
  if (result.code !== 0) throw targetFailure(target, result, 'Test connection');
  const [host, ...lines] = result.stdout.trim().split('\n');
  const value = (key: string): string => lines.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1) ?? '';
  const check: TargetCheck = { host, python: value('python') || null, tar: value('tar') === 'yes', nvidiaSmi: value('nvidia-smi') === 'yes', problems: [] };
  if (!check.python) check.problems.push('python3 is not on the PATH of a non-interactive shell there; install Python 3 or add it to PATH in ~/.profile.');
  if (!check.tar) check.problems.push('tar is not on the PATH there; install tar.');
  return check;
}

export interface GpuInventory { gpus: (GpuInfo & { processes: GpuProcess[] })[] }

const SEPARATOR = '--- compute apps ---';

/** GPUs of the target with the processes on each, from one nvidia-smi round trip. */
export async function targetGpus(target: ShellTarget): Promise<GpuInventory> {
  const result = await runOnTarget(target, `nvidia-smi ${NVIDIA_SMI_ARGS.join(' ')} && echo '${SEPARATOR}' && nvidia-smi ${NVIDIA_SMI_PROCESS_ARGS.join(' ')}`);
  if (result.code === 127 || /nvidia-smi: (command )?not found/.test(result.stderr)) {
    throw new Error(`Target "${target.name}" has no nvidia-smi on its PATH: it has no NVIDIA GPU or driver installed.`);
  }
  if (result.code !== 0) throw targetFailure(target, result, 'nvidia-smi');
  const [gpuCsv, appCsv = ''] = result.stdout.split(SEPARATOR);
  return inventoryFrom(gpuCsv, appCsv);
}

/** Joins processes to their GPU by uuid; without a uuid (a single-GPU host's older output) they go to GPU 0. */
export function inventoryFrom(gpuCsv: string, appCsv: string): GpuInventory {
  const processes = parseGpuProcesses(appCsv);
  const gpus = parseGpuQuery(gpuCsv);
  return {
    gpus: gpus.map((g) => ({
      ...g,
      processes: processes.filter((p) => p.gpu_uuid ? p.gpu_uuid === g.uuid : g === gpus[0]),
    })),
  };
}
