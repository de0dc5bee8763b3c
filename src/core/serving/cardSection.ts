import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatTime } from '../format';
import type { MlopsLayout } from '../workspace/layout';
import type { CapacityReport } from './loadTest';

/** The saved load tests (`.mlops/serving/<deployment>/capacity.json`) that measured this registered version, newest first. */
export function capacityReportsFor(layout: MlopsLayout, model: string, version: number): CapacityReport[] {
  const dir = path.join(layout.dir, 'serving');
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: CapacityReport[] = [];
  for (const name of names) {
    let report: CapacityReport;
    try {
      report = JSON.parse(fs.readFileSync(path.join(dir, name, 'capacity.json'), 'utf8')) as CapacityReport;
    } catch {
      continue; // no load test there, or one from before reports named what they measured
    }
    if (report.served?.some((s) => s.registered && s.model === model && s.version === String(version))) out.push(report);
  }
  return out.sort((a, b) => b.time - a.time);
}

const num = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

/** The model card's "Capacity" section: what each deployment's last load test measured for this version. */
export function capacityCardSection(reports: CapacityReport[], model: string, version: number, cell: (text: string) => string): string[] {
  if (!reports.length) return [];
  const lines = [
    '## Capacity',
    '',
    'Measured by a bounded loopback load at increasing rates (`mlops loadtest`): the highest rate answered in full with p99 under the target, on the machine that ran it.',
    '',
    '| deployment | tested | p99 target | max req/s | p50 ms | p99 ms | req/s per core | instances for target | $ per million |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of reports) {
    const others = (r.served ?? []).filter((s) => !(s.registered && s.model === model && s.version === String(version))).map((s) => `${s.model} ${s.version}`);
    const name = `${cell(r.deployment ?? '?')}${others.length ? ` (traffic split with ${cell(others.join(', '))})` : ''}`;
    const instances = r.instances !== undefined ? `${r.instances} for ${r.targetRps} req/s` : '–';
    const cost = r.costPerMillionUsd !== undefined ? `${r.costPerMillionUsd.toFixed(4)} at ${r.coreHourUsd} $/core-hour` : '–';
    lines.push(`| ${name} | ${formatTime(r.time)} | ${r.p99TargetMs} ms | ${Math.round(r.maxRps)} | ${num(r.p50Ms)} | ${num(r.p99Ms)} | ${r.rpsPerCore === undefined ? '–' : Math.round(r.rpsPerCore)} | ${instances} | ${cost} |`);
  }
  lines.push('');
  return lines;
}
