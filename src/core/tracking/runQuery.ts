// Filtering runs with MLflow's search syntax
// (`metrics.val_accuracy > 0.9 and params.lr < 0.01 and status = 'FINISHED'`)
// for the runs table. The parser and matcher are the MLflow endpoint's
// (src/core/query/searchFilter.ts) in its `workbench` dialect (OR, parentheses
// and IN besides MLflow's AND); this module adapts our runs to them and turns
// a bad query into one message for a person. Pure: no Node APIs, so the
// benchmark harness runs it in a browser.

import { compareRuns, matchRun, parseOrderBy, parseRunFilter, type FilterNode, type RunView } from '../query/searchFilter';
import type { RunJson } from './runJson';
import type { MetricSummary, RunSummary } from './store';

/** What a filter can look at of one run: its attributes as `mlops runs list --json` gives them, and more. */
export interface QueryRun extends Omit<RunJson, 'exit_code'> {
  params: Record<string, string>;
  /** Latest value per metric key. */
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

export type CompiledRunQuery =
  | { ok: true; query: string; /** undefined when the query is empty: every run matches */ test?: (run: QueryRun) => boolean }
  | { ok: false; query: string; error: string };

/** Parses a query once; the result tests runs quickly. */
export function compileRunQuery(text: string): CompiledRunQuery {
  const query = text.trim();
  let ast: FilterNode | undefined;
  try {
    ast = parseRunFilter(query, { dialect: 'workbench' });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, query, error: message };
  }
  if (!ast) return { ok: true, query };
  const node = ast;
  return {
    ok: true,
    query,
    test: (run) => {
      try {
        return matchRun(node, runView(run));
      } catch {
        return false; // a run the matcher cannot read does not match; it does not break the table
      }
    },
  };
}

/** The ids of `runs` that match, in their order; null for an empty query (all match). */
export function filterRunIds(query: CompiledRunQuery & { ok: true }, runs: Iterable<QueryRun>): string[] | null {
  const { test } = query;
  if (!test) return null;
  const out: string[] = [];
  for (const run of runs) if (test(run)) out.push(run.id);
  return out;
}

/** A run as a query reads it, from its summary and what the index holds of it. */
export function queryRunOf(run: RunSummary, params: Record<string, string>, metrics: MetricSummary[], tags: Record<string, string>): QueryRun {
  const latest: Record<string, number> = {};
  for (const m of metrics) latest[m.key] = m.latest;
  return {
    id: run.id, name: run.name, experiment: run.experiment, status: run.status, source: run.source,
    start_time: run.start_time, end_time: run.end_time, params, metrics: latest, tags,
  };
}

/**
 * Orders runs by MLflow order_by clauses (`metrics.acc DESC`, `params.lr`, `start_time`); runs
 * missing the key go last, ties keep the given order. A bad clause throws a FilterError.
 */
export function sortRuns<R extends QueryRun>(runs: readonly R[], clauses: readonly string[]): R[] {
  const order = clauses.map((clause) => parseOrderBy(clause));
  const views = new Map(runs.map((r) => [r, runView(r)]));
  return [...runs].sort((a, b) => compareRuns(views.get(a)!, views.get(b)!, order));
}

/** Our run as the search filter reads it: MLflow's attribute names. */
function runView(run: QueryRun): RunView {
  return {
    params: run.params,
    metrics: run.metrics,
    tags: run.tags,
    attributes: {
      run_id: run.id,
      run_name: run.name,
      status: run.status,
      start_time: run.start_time,
      end_time: run.end_time,
      user_id: run.tags['mlflow.user'],
    },
  };
}
