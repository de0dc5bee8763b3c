import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { inventoryFrom } from '../../src/core/compute/inventory';
import { parseGpuProcesses, parseGpuQuery } from '../../src/core/tracking/gpus';
import { fixtures } from './helpers';

describe('GPU inventory from nvidia-smi', () => {
  it('parses the real H200 query output (noheader,nounits form), skipping a header line', () => {
    const lines = fs.readFileSync(path.join(fixtures, 'gpu-host', 'nvidia-smi-query.csv'), 'utf8').split('\n');
    // The fixture holds the csv form (header + values with units) first, then the noheader,nounits form we query.
    const gpus = parseGpuQuery([lines[0], ...lines.slice(2)].join('\n'));
    assert.equal(gpus.length, 1);
    assert.deepEqual(gpus[0], {
      index: 0, uuid: 'GPU-00000000-1111-2222-3333-444444444444', name: 'NVIDIA H200', driver_version: '580.159.04',
      memory_total_mib: 143771, memory_used_mib: 0, memory_free_mib: 143156, utilization_gpu_pct: 0,
      utilization_memory_pct: 0, temperature_c: 33, power_draw_w: 79.16, power_limit_w: 700,
    });
  });

  it('reads "[N/A]" fields as null and several GPUs in order', () => {
    const gpus = parseGpuQuery('0, GPU-a, Tesla T4, 535.1, 15360, 1, 15359, 3, 0, 40, [N/A], 70.00\n1, GPU-b, Tesla T4, 535.1, 15360, 2, 15358, 97, 50, 71, 65.2, 70.00\n');
    assert.deepEqual(gpus.map((g) => g.index), [0, 1]);
    assert.equal(gpus[0].power_draw_w, null);
    assert.equal(gpus[1].utilization_gpu_pct, 97);
  });
});

describe('GPU inventory of a target (nvidia-smi csv with units, compute apps)', () => {
  it('reads the --format=csv form with units the same as the nounits form', () => {
    const lines = fs.readFileSync(path.join(fixtures, 'gpu-host', 'nvidia-smi-query.csv'), 'utf8').split('\n');
    const [withUnits] = parseGpuQuery(lines.slice(0, 2).join('\n'));
    const [plain] = parseGpuQuery(lines[2]);
    assert.equal(withUnits.memory_total_mib, 143771);
    assert.equal(withUnits.utilization_gpu_pct, 0);
    assert.equal(withUnits.power_draw_w, 79.19);
    assert.deepEqual({ ...withUnits, power_draw_w: plain.power_draw_w }, plain);
  });

  it('lists the processes of the busy H200 with their memory, on its GPU', () => {
    const busy = fs.readFileSync(path.join(fixtures, 'gpu-host', 'nvidia-smi-busy.csv'), 'utf8');
    const apps = busy.slice(busy.indexOf('pid, process_name'));
    assert.deepEqual(parseGpuProcesses(apps), [{ pid: 773, name: 'python3', used_memory_mib: 966 }]);
    const query = fs.readFileSync(path.join(fixtures, 'gpu-host', 'nvidia-smi-query.csv'), 'utf8').split('\n')[2];
    const { gpus } = inventoryFrom(query, apps);
    assert.equal(gpus[0].name, 'NVIDIA H200');
    assert.deepEqual(gpus[0].processes.map((p) => p.pid), [773]);
  });

  it('puts each process on the GPU its uuid names', () => {
    const { gpus } = inventoryFrom(
      '0, GPU-a, Tesla T4, 535.1, 15360, 1, 15359, 3, 0, 40, 20.1, 70.00\n1, GPU-b, Tesla T4, 535.1, 15360, 900, 14460, 97, 50, 71, 65.2, 70.00\n',
      '4242, python3, 900, GPU-b\n',
    );
    assert.deepEqual(gpus.map((g) => g.processes.map((p) => p.pid)), [[], [4242]]);
  });
});
