import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readMapping, removeMapping, removeUnusedRunDir, writeMapping } from '../../core/notebooks/notebookMapping';
import { captureEnvironment } from '../../core/tracking/capture';
import { EVENT_SCHEMA_VERSION, type CellStatus, type NewRunEvent, type RunStatus } from '../../core/tracking/events';
import { appendEvents, newRunId } from '../../core/tracking/eventWriter';
import { nextRunName } from '../../core/tracking/runNaming';
import { fileDigest } from '../../core/workspace/digest';
import type { MlopsLayout } from '../../core/workspace/layout';
import type { TrackingService } from '../trackingService';
import { cellErrorText, exportNotebook, exportNotebookSync } from './exportNotebook';

const DIFF_FILE = 'git-diff.patch';

/** Why a notebook's run ends. */
export type EndReason = 'restart' | 'command' | 'close' | 'ended-elsewhere';

/**
 * The tracked run of one open notebook: one run per kernel session, made of the
 * cell executions VS Code reports (NotebookCell.executionSummary), whatever
 * controller ran them. The run is set aside when the notebook opens (its id is
 * in the mapping file the Python client reads) and starts at the first cell
 * execution; it ends when the kernel restarts (execution order goes back, or the
 * client moved to the next run), when the notebook closes, or on request. At the
 * end the notebook with its outputs is saved as the artifact `<name>.ipynb`.
 */
export class NotebookSession {
  /** The run of the current kernel session; no run_start until a cell runs. */
  runId = newRunId();
  /** The run the next kernel session takes; a restarted kernel's client may move to it before we notice. */
  private nextRunId = newRunId();
  private started = false;
  private lastOrder: number | undefined;
  /** The last summary seen per cell, to tell a new execution from another event about the same one. */
  private readonly seen = new Map<string, { order: number | undefined; done: boolean; startTime: number | undefined }>();
  private readonly recorded = new Set<string>();
  /** Each cell's latest outcome in this run: the run FAILED when one ends in error. */
  private readonly latest = new Map<string, CellStatus>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly doc: vscode.NotebookDocument,
    private readonly layout: MlopsLayout,
    private readonly service: TrackingService,
    private readonly log: vscode.OutputChannel,
  ) {
    this.saveMapping(null);
  }

  get notebookPath(): string {
    return this.doc.uri.fsPath;
  }

  /** Handles changed execution summaries, one change at a time, in order. */
  onDidChange(e: vscode.NotebookDocumentChangeEvent): void {
    for (const change of e.cellChanges) {
      if (!change.executionSummary) continue;
      const summary = change.executionSummary;
      const cell = change.cell;
      this.enqueue(() => this.onExecution(cell, summary));
    }
  }

  /** Ends the current run (if a cell ran); returns its id, or undefined when nothing ran. */
  end(reason: EndReason): Promise<string | undefined> {
    return this.enqueue(() => this.finish(reason));
  }

  /** Waits until every queued change is handled (tests, commands). */
  settled(): Promise<void> {
    return this.enqueue(async () => undefined);
  }

  /** Synchronous end for deactivation: run_end and a notebook serialized without the ipynb extension. */
  disposeSync(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.adoptClientOnlyRun();
      if (this.started) {
        this.writeArtifactSync();
        appendEvents(this.layout.eventsFile(this.runId), [{ type: 'run_end', status: this.finalStatus(), exit_code: null }]);
      }
      removeUnusedRunDir(this.layout, this.nextRunId);
      if (!this.started) removeUnusedRunDir(this.layout, this.runId);
      removeMapping(this.layout, this.notebookPath);
    } catch (err) {
      this.log.appendLine(`Ending the run of ${this.notebookPath} failed: ${(err as Error).message}`);
    }
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch((err: Error) => this.log.appendLine(`Notebook tracking of ${this.notebookPath}: ${err.message}`));
    return next;
  }

  private async onExecution(cell: vscode.NotebookCell, summary: vscode.NotebookCellExecutionSummary): Promise<void> {
    if (this.closed) return;
    const order = summary.executionOrder;
    const done = summary.success !== undefined || summary.timing !== undefined;
    if (order === undefined && !done) return; // outputs cleared, not an execution
    const cellKey = cell.document.uri.toString();
    const startTime = summary.timing?.startTime;
    const prev = this.seen.get(cellKey);
    // VS Code reports an execution when it starts (order, no timing) and when it ends (success, timing).
    const isNew = !prev || prev.order !== order || (prev.done && (!done || startTime !== prev.startTime));

    if (this.started && this.endedElsewhere()) await this.finish('ended-elsewhere');
    const mapping = readMapping(this.layout, this.notebookPath);
    if (mapping?.run_id === this.nextRunId) {
      // A restarted kernel's client got here first and moved to the next run.
      await this.finish('restart', mapping.kernel_pid);
    } else if (isNew && order !== undefined && this.lastOrder !== undefined && order <= this.lastOrder) {
      await this.finish('restart'); // execution counts start again: a new kernel session
    } else if (!mapping || mapping.run_id !== this.runId || mapping.next_run_id !== this.nextRunId) {
      this.saveMapping(mapping?.run_id === this.runId ? mapping.kernel_pid : null);
    }
    this.seen.set(cellKey, { order, done, startTime });
    if (order !== undefined) this.lastOrder = Math.max(this.lastOrder ?? 0, order);
    if (!this.started) this.startRun(summary.timing?.startTime);
    if (!done) return;

    const key = `${cellKey}|${order}|${summary.timing?.startTime}|${summary.timing?.endTime}`;
    if (this.recorded.has(key)) return;
    this.recorded.add(key);
    const status: CellStatus = summary.success === true ? 'ok' : summary.success === false ? 'error' : 'unknown';
    const error = status === 'error' ? (cellErrorText(cell) ?? 'the cell failed') : undefined;
    const timing = summary.timing;
    appendEvents(this.layout.eventsFile(this.runId), [{
      type: 'cell',
      index: cell.index,
      execution_count: order ?? null,
      duration_ms: timing ? Math.max(0, timing.endTime - timing.startTime) : null,
      status,
      ...(error ? { error: error.slice(0, 2000) } : {}),
      time: timing?.endTime ?? Date.now(),
    }]);
    this.latest.set(cellKey, status);
    this.service.queueRefresh();
  }

  /** Someone else ended the run (Stop Run in the Runs view, another process). */
  private endedElsewhere(): boolean {
    const run = this.service.current?.getRun(this.runId);
    return !!run && run.status !== 'RUNNING';
  }

  private startRun(startTime: number | undefined): void {
    const events = this.layout.eventsFile(this.runId);
    const artifacts = this.layout.artifactsDir(this.runId);
    fs.mkdirSync(artifacts, { recursive: true });
    const relative = path.relative(this.layout.root, this.notebookPath).split(path.sep).join('/');
    appendEvents(events, [
      {
        type: 'run_start', schema: EVENT_SCHEMA_VERSION, run_id: this.runId, name: nextRunName(this.layout.runsDir, path.basename(this.notebookPath).replace(/\.ipynb$/i, '')),
        experiment: 'Default', source: 'notebook', time: startTime ?? Date.now(),
      },
      { type: 'tag', key: 'notebook', value: relative },
    ]);
    this.started = true;
    const runId = this.runId;
    void captureEnvironment({
      argv: [this.notebookPath], cwd: path.dirname(this.notebookPath), packages: false, diffFile: path.join(artifacts, DIFF_FILE),
    }).then(async (capture) => {
      const extra: NewRunEvent[] = [];
      if (capture.git?.diff_artifact) extra.push({ type: 'artifact', path: DIFF_FILE, ...(await fileDigest(path.join(artifacts, DIFF_FILE))) });
      appendEvents(this.layout.eventsFile(runId), [{ type: 'capture', capture }, ...extra]);
      this.service.queueRefresh();
    }).catch((err: Error) => this.log.appendLine(`Capturing the environment of notebook run ${runId} failed: ${err.message}`));
    this.service.queueRefresh();
  }

  /** Ends the current run (artifact, run_end) and moves the notebook to the next one. */
  private async finish(reason: EndReason, claimedBy?: number | null): Promise<string | undefined> {
    this.adoptClientOnlyRun();
    const ended = this.started ? this.runId : undefined;
    if (this.started) {
      await this.writeArtifact();
      if (reason !== 'ended-elsewhere') {
        appendEvents(this.layout.eventsFile(this.runId), [{ type: 'run_end', status: this.finalStatus(), exit_code: null }]);
      }
      this.log.appendLine(`Notebook run ${this.runId} of ${this.notebookPath} ended (${reason}).`);
    }
    if (reason === 'close') {
      this.closed = true;
      removeUnusedRunDir(this.layout, this.nextRunId);
      if (!ended) removeUnusedRunDir(this.layout, this.runId);
      removeMapping(this.layout, this.notebookPath);
      this.service.queueRefresh();
      return ended;
    }
    if (!this.started && reason !== 'restart') return undefined; // nothing ran: keep the run set aside
    const kernelPid = reason === 'restart' ? (claimedBy ?? null) : (readMapping(this.layout, this.notebookPath)?.kernel_pid ?? null);
    if (!this.started) removeUnusedRunDir(this.layout, this.runId);
    this.runId = this.nextRunId;
    this.nextRunId = newRunId();
    this.started = false;
    this.recorded.clear();
    this.latest.clear();
    if (reason === 'restart') {
      this.lastOrder = undefined;
      this.seen.clear();
    }
    this.saveMapping(kernelPid);
    this.service.queueRefresh();
    return ended;
  }

  /**
   * The client in the kernel logged into the run set aside before any execution
   * reached us (the notebook closes mid-cell): start the run so it is not left
   * without run_start and run_end.
   */
  private adoptClientOnlyRun(): void {
    if (!this.started && fs.existsSync(this.layout.eventsFile(this.runId))) this.startRun(undefined);
  }

  private finalStatus(): RunStatus {
    return [...this.latest.values()].includes('error') ? 'FAILED' : 'FINISHED';
  }

  private artifactName(): string {
    return path.basename(this.notebookPath);
  }

  private async writeArtifact(): Promise<void> {
    let text: string | undefined;
    try {
      text = await exportNotebook(this.doc);
    } catch (err) {
      this.log.appendLine(`Serializing ${this.notebookPath} failed (${(err as Error).message}); saving the file on disk instead.`);
    }
    const file = this.writeArtifactFile(text);
    if (file) appendEvents(this.layout.eventsFile(this.runId), [{ type: 'artifact', path: this.artifactName(), ...(await fileDigest(file)) }]);
  }

  private writeArtifactSync(): void {
    let text: string | undefined;
    try {
      text = exportNotebookSync(this.doc);
    } catch {
      text = undefined;
    }
    const file = this.writeArtifactFile(text);
    if (!file) return;
    const data = fs.readFileSync(file);
    appendEvents(this.layout.eventsFile(this.runId), [{
      type: 'artifact', path: this.artifactName(), size: data.length, sha256: createHash('sha256').update(data).digest('hex'),
    }]);
  }

  /** Writes the serialized notebook, or copies the file on disk when there is no text; undefined when neither exists. */
  private writeArtifactFile(text: string | undefined): string | undefined {
    const dir = this.layout.artifactsDir(this.runId);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, this.artifactName());
    if (text === undefined) {
      if (!fs.existsSync(this.notebookPath)) return undefined;
      fs.copyFileSync(this.notebookPath, file);
    } else {
      fs.writeFileSync(file, text);
    }
    return file;
  }

  private saveMapping(kernelPid: number | null): void {
    try {
      writeMapping(this.layout, { notebook: this.notebookPath, run_id: this.runId, next_run_id: this.nextRunId, kernel_pid: kernelPid });
    } catch (err) {
      this.log.appendLine(`Writing the run mapping of ${this.notebookPath} failed: ${(err as Error).message}`);
    }
  }
}
