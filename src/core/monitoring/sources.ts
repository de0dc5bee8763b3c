import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SnapshotStore } from '../snapshots';
import { openTable } from '../validation/table';
import { MlopsLayout } from '../workspace/layout';
import { readColumns, type ColumnarTable } from './columns';
import { plainCsvHeader, readPlainCsv } from './plainCsv';
import { parseWindow } from './predictionWindow';
import { cachedReference, keepReference, referenceKey } from './referenceCache';
import { readWindow } from './windowThread';

/** A source naming a deployment's prediction log rather than a file or snapshot. */
const DEPLOYMENT = /^deployment:(.+)$/;

export interface DriftSide extends ColumnarTable {
  /** Columns that are model outputs (from a prediction log). */
  predictions: string[];
}

export interface OpenSideOptions {
  root: string;
  /** Window of a deployment's log: rows or a duration (default 10000 rows). */
  window?: string;
  /** Names for a vector input's values: the other side's columns. */
  featureNames?: string[];
  /** Opened only when a source is a snapshot. */
  snapshots?: () => Promise<SnapshotStore>;
  /** Keep a table side between reads, its columns sorted (a deployment's reference: referenceCache.ts). */
  cache?: MlopsLayout;
}

export const DEFAULT_WINDOW = '10000';

export function isDeploymentSource(source: string): boolean {
  return DEPLOYMENT.test(source);
}

/** A side being read: a table's column names as soon as its header is read, its columns once all is read. */
export interface OpeningSide {
  columns?: string[];
  done: Promise<DriftSide>;
}

/**
 * Starts reading one side of a comparison: a csv/jsonl file or folder, a snapshot
 * (`id[:path]`), or `deployment:<name>` (a window of its log, a large one on a worker
 * thread). A table's header comes first, so that a log side read meanwhile can name its
 * vector input after the table's columns.
 */
export async function startDriftSide(source: string, options: OpenSideOptions): Promise<OpeningSide> {
  const deployment = DEPLOYMENT.exec(source)?.[1];
  if (deployment) {
    const dir = path.join(new MlopsLayout(options.root).dir, 'serving', deployment);
    const window = parseWindow(options.window ?? DEFAULT_WINDOW);
    return { done: readWindow(dir, `deployment ${deployment}`, { window, featureNames: options.featureNames }) };
  }
  const { cache } = options;
  const key = cache && (await referenceKey(options.root, source, options.snapshots));
  const cached = cache && key ? cachedReference(cache, key) : undefined;
  if (cached) return { columns: [...cached.columns.keys()], done: Promise.resolve({ ...cached, predictions: [] }) };
  const file = path.resolve(options.root, source);
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  const kept = async (read: () => Promise<ColumnarTable>): Promise<DriftSide> => {
    const columns = await read();
    if (cache && key) await keepReference(cache, key, columns);
    return { ...columns, predictions: [] };
  };
  const header = stat?.isFile() && /\.csv$/i.test(file) ? plainCsvHeader(file) : undefined;
  if (header) {
    // A plain CSV is read at once, after the other side has started (a log on its thread).
    const read = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return readPlainCsv(file, source) ?? readColumns(await openTable(source, options.root));
    };
    return { columns: header, done: kept(read) };
  }
  const table = await openTable(source, options.root, !stat && options.snapshots ? await options.snapshots() : undefined);
  return { columns: table.columns, done: kept(() => readColumns(table)) };
}
