import type { GpuInfo } from './events';

/** The nvidia-smi query whose `--format=csv,noheader,nounits` output `parseGpuQuery` reads. */
export const GPU_QUERY_FIELDS = [
  'index', 'uuid', 'name', 'driver_version', 'memory.total', 'memory.used', 'memory.free',
  'utilization.gpu', 'utilization.memory', 'temperature.gpu', 'power.draw', 'power.limit',
] as const;

export const NVIDIA_SMI_ARGS = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

/** A numeric field; nvidia-smi writes "[N/A]" or "[Not Supported]" where a GPU cannot say. */
function num(text: string | undefined): number | null {
  if (text === undefined) return null;
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(n) ? n : null;
}

export function parseGpuQuery(csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of csv.split(/\r?\n/)) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length < GPU_QUERY_FIELDS.length || !/^\d+$/.test(cells[0])) continue;
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
