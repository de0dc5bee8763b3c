import * as fs from 'node:fs';

/** MLflow's DatasetInput: a dataset a run read, with its tags (`mlflow.data.context`: train, eval…). */
export interface DatasetJson {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}
export interface DatasetInputJson { tags: { key: string; value: string }[]; dataset: DatasetJson }

/** The event log line of one logged dataset input (docs/mlflow.md); the index does not read it. */
export interface DatasetInputEvent { type: 'dataset_input'; time: number; dataset: DatasetJson; tags: { key: string; value: string }[] }

const MARKER = '"type":"dataset_input"';
const CHUNK = 8 * 1024 * 1024;

/**
 * Dataset inputs of runs, read back from their event logs: `dataset_input` lines are kept in
 * the run's log (the truth) but not in tracking.db, so they are found by scanning the log,
 * once, then only the bytes appended since. One input per (name, digest), the latest kept.
 */
export class DatasetInputs {
  private readonly cache = new Map<string, { offset: number; inputs: Map<string, DatasetInputJson> }>();

  of(eventsFile: string, runId: string): DatasetInputJson[] {
    let entry = this.cache.get(runId);
    let size: number;
    try {
      size = fs.statSync(eventsFile).size;
    } catch {
      return [];
    }
    if (!entry || size < entry.offset) this.cache.set(runId, (entry = { offset: 0, inputs: new Map() }));
    if (size > entry.offset) this.scan(eventsFile, entry, size);
    return [...entry.inputs.values()];
  }

  private scan(file: string, entry: { offset: number; inputs: Map<string, DatasetInputJson> }, size: number): void {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(CHUNK);
      let carry = Buffer.alloc(0);
      let offset = entry.offset;
      while (offset + carry.length < size) {
        const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, size - offset - carry.length), offset + carry.length);
        if (n === 0) break;
        const data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
        const lastNl = data.lastIndexOf(10);
        if (lastNl < 0) {
          carry = Buffer.from(data);
          continue;
        }
        const text = data.subarray(0, lastNl + 1).toString('utf8');
        if (text.includes(MARKER)) {
          for (const line of text.split('\n')) if (line.includes(MARKER)) this.apply(line, entry.inputs);
        }
        offset += lastNl + 1;
        carry = Buffer.from(data.subarray(lastNl + 1));
      }
      entry.offset = offset;
    } finally {
      fs.closeSync(fd);
    }
  }

  private apply(line: string, inputs: Map<string, DatasetInputJson>): void {
    try {
      const e = JSON.parse(line) as Partial<DatasetInputEvent>;
      const d = e.dataset;
      if (e.type !== 'dataset_input' || !d || typeof d.name !== 'string' || typeof d.digest !== 'string') return;
      inputs.delete(`${d.name}\0${d.digest}`);
      inputs.set(`${d.name}\0${d.digest}`, { tags: Array.isArray(e.tags) ? e.tags : [], dataset: d });
    } catch {
      // a damaged line: the index's own ingest reports it
    }
  }
}
