import * as fs from 'node:fs';
import { RECORD_BYTES } from '../tracking/metricHistory';

/** One point of a metric as MLflow shows it. */
export interface MetricPoint { key: string; value: number; timestamp: number; step: number }

interface Latest { count: number; value: number; timestamp: number; step: number }

/**
 * MLflow's "latest" value of a metric (the point with the latest timestamp; among equal
 * timestamps the largest value, NaN counting as the smallest) differs from the index's own
 * summary (highest step), so it is computed here from the history files: each (run, key) is
 * read once, then only the points appended since (the files are append-only records).
 */
export class LatestMetrics {
  private readonly runs = new Map<string, Map<string, Latest>>();

  /** `file` is the metric's history file, `count` how many points the index says it holds. */
  latest(runId: string, key: string, file: string, count: number): MetricPoint | undefined {
    let perRun = this.runs.get(runId);
    if (!perRun) this.runs.set(runId, (perRun = new Map()));
    let entry = perRun.get(key);
    if (entry && entry.count > count) entry = undefined; // the history was rebuilt: read it again
    if (!entry || entry.count < count) {
      const from = entry?.count ?? 0;
      const points = readHistoryRange(file, from, count - from);
      let best = entry ?? { count: 0, value: NaN, timestamp: -Infinity, step: 0 };
      for (let i = 0; i < points.length; i += 3) {
        const step = points[i], time = points[i + 1], value = points[i + 2];
        if (time > best.timestamp || (time === best.timestamp && (Number.isNaN(best.value) || value >= best.value))) {
          best = { count: 0, value, timestamp: time, step };
        }
      }
      entry = { ...best, count: from + points.length / 3 };
      perRun.set(key, entry);
    }
    if (entry.count === 0) return undefined;
    return { key, value: entry.value, timestamp: entry.timestamp, step: entry.step };
  }
}

/** Records [from, from + count) of a history file as flat [step, time, value, …]; short when the file is. */
export function readHistoryRange(file: string, from: number, count: number): Float64Array {
  if (count <= 0) return new Float64Array(0);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return new Float64Array(0);
  }
  try {
    const buf = Buffer.alloc(count * RECORD_BYTES); // never pooled: 8-byte aligned
    let read = 0;
    while (read < buf.length) {
      const n = fs.readSync(fd, buf, read, buf.length - read, from * RECORD_BYTES + read);
      if (n === 0) break;
      read += n;
    }
    const records = Math.floor(read / RECORD_BYTES);
    return new Float64Array(buf.buffer, buf.byteOffset, records * 3);
  } finally {
    fs.closeSync(fd);
  }
}
