import type { GpuInfo } from './events';

/** The nvidia-smi query whose `--format=csv,noheader,nounits` output `parseGpuQuery` reads. */
export const GPU_QUERY_FIELDS = [
  'index', 'uuid', 'name', 'driver_version', 'memory.total', 'memory.used', 'memory.free',
  'utilization.gpu', 'utilization.memory', 'temperature.gpu', 'power.draw', 'power.limit',
] as const;

export const NVIDIA_SMI_ARGS = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

/** A GPU process from `--query-compute-apps=pid,process_name,used_memory,gpu_uuid`. */
export interface GpuProcess { pid: number; name: string; used_memory_mib: number | null; gpu_uuid?: string }

export const GPU_PROCESS_FIELDS = ['pid', 'process_name', 'used_memory', 'gpu_uuid'] as const;
export const NVIDIA_SMI_PROCESS_ARGS = [`--query-compute-apps=${GPU_PROCESS_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

/**
 * A numeric field, with or without its unit ("143771 MiB", "79.19 W", "0 %": the
 * `--format=csv` form); nvidia-smi writes "[N/A]" or "[Not Supported]" where a GPU cannot say.
 */
function num(text: string | undefined): number | null {
  const m = /^(-?\d+(?:\.\d+)?)(?:\s*(?:MiB|%|W|C))?$/.exec(text?.trim() ?? '');
  return m ? Number(m[1]) : null;
}

/** Data lines of a CSV answer as trimmed cells; a header line (first cell not a number) is skipped. */
function dataRows(csv: string, minCells: number): string[][] {
  return csv.split(/\r?\n/)
    .map((line) => line.split(',').map((c) => c.trim()))
    .filter((cells) => cells.length >= minCells && /^\d+$/.test(cells[0]));
}

export function parseGpuQuery(csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const cells of dataRows(csv, GPU_QUERY_FIELDS.length)) {
    const [index, uuid, name, driver, memTotal, memUsed, memFree, utilGpu, utilMem, temp, power, powerLimit] = cells;
    gpus.push({
      index: Number(index),
      uuid,
      name,
      driver_version: driver,
      memory_total_mib: num(memTotal),
      memory_used_mib: num(memUsed),
      memory_free_mib: num(memFree),
      utilization_gpu_pct: num(utilGpu),
      utilization_memory_pct: num(utilMem),
      temperature_c: num(temp),
      power_draw_w: num(power),
      power_limit_w: num(powerLimit),
    });
  }
  return gpus;
}

/** Processes using a GPU, from the compute-apps query (with or without header and units; gpu_uuid optional). */
export function parseGpuProcesses(csv: string): GpuProcess[] {
  return dataRows(csv, 3).map(([pid, name, memory, uuid]) => ({
    pid: Number(pid), name, used_memory_mib: num(memory), ...(uuid ? { gpu_uuid: uuid } : {}),
  }));
}
