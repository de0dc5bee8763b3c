import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PipelineRunRecord } from '../../core/pipelines/history';
import { DEFAULT_PARALLEL, runPipeline, type PipelineEvent } from '../../core/pipelines/run';
import { PIPELINE_DAG_VIEW_TYPE } from '../../protocol/pipelines';
import { registerCommand } from '../commandErrors';
import type { TrackingService } from '../trackingService';
import { pickTarget } from '../targets/pickTarget';
import { PipelineDagPanel } from './dagPanel';
import { PipelineModel } from './model';
import { PipelinesTreeProvider, stateWords, type PipelineNode } from './tree';

type StageArg = PipelineNode | string | undefined;

const STARTER = `# MLOps Workbench project settings (every key is optional).
# Pipeline stages: the order comes from outs → deps; only what changed runs again.
# stages:
#   prepare:
#     cmd: python3 prepare.py
#     deps: [prepare.py, raw/]
#     outs: [data/prepared.csv]
#   train:
#     cmd: python3 train.py
#     deps: [train.py, data/prepared.csv]
#     params: [params.yaml:train.lr]
#     outs: [models/model.onnx]
`;

export interface PipelinesApi {
  model: PipelineModel;
  tree: PipelinesTreeProvider;
  /** The DAG panel, while open. */
  dagPanel(): PipelineDagPanel | undefined;
}

/**
 * The Pipelines view, its commands (run the pipeline, here or on a target; a stage, a stage and what follows it;
 * open a stage in mlops.yaml; the DAG panel) and its refreshes: when mlops.yaml or a
 * pipeline record changes, when a file is saved, and as a run in this window goes.
 */
export function registerPipelines(context: vscode.ExtensionContext, service: TrackingService, log: vscode.OutputChannel): PipelinesApi {
  const model = new PipelineModel(service.root);
  const tree = new PipelinesTreeProvider(model);
  const view = vscode.window.createTreeView<PipelineNode>('mlops.pipelines', { treeDataProvider: tree });
  let panel: PipelineDagPanel | undefined;
  const show = (): void => {
    tree.refresh();
    panel?.update(model.dagData());
  };
  let refreshing: Promise<void> | undefined;
  let again = false;
  // One status read at a time; asks that come during one are served by one more read after it.
  const refresh = (): Promise<void> => {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = model.refresh().then(show).finally(() => {
      refreshing = undefined;
      if (again) {
        again = false;
        void refresh();
      }
    });
    return refreshing;
  };

  const stageName = (arg: StageArg): string => {
    if (typeof arg === 'string') return arg;
    if (arg?.kind === 'stage') return arg.stage.name;
    const selected = view.selection[0];
    if (selected?.kind === 'stage') return selected.stage.name;
    throw new Error('Pick a stage in the Pipelines view first.');
  };

  const run = async (stage?: string, downstream = false, target?: string): Promise<PipelineRunRecord | undefined> => {
    if (model.running) throw new Error('A pipeline run is already under way in this window; wait for it, or cancel it from its notification.');
    const parallel = vscode.workspace.getConfiguration('mlops').get<number>('pipelines.parallel', DEFAULT_PARALLEL);
    const what = `${stage === undefined ? 'the pipeline' : downstream ? `${stage} and the stages after it` : `stage ${stage}`}${target ? ` on ${target}` : ''}`;
    const project = await service.project();
    log.appendLine(`Pipeline: running ${what}`);
    const record = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MLOps: running ${what}`, cancellable: true },
      (progress, token) => {
        const stop = new AbortController();
        token.onCancellationRequested(() => stop.abort());
        const onEvent = (e: PipelineEvent): void => {
          model.apply(e);
          if (e.type === 'output') log.append(e.text.replace(/^(?=.)/gm, `[${e.stage}] `));
          if (e.type === 'stage') {
            progress.report({ message: `${e.stage}: ${stateWords(e.state)}` });
            log.appendLine(`Pipeline: ${e.stage}: ${stateWords(e.state)}${e.reasons.length ? ` (${e.reasons.join('; ')})` : ''}`);
            if (e.error) log.appendLine(`Pipeline: ${e.error}`);
            service.queueRefresh();
          }
          show();
        };
        return runPipeline(service.root, { stage, downstream, parallel, project, target, env: service.launchEnv(), signal: stop.signal, onEvent })
          .finally(() => { model.running = false; });
      },
    );
    await refresh();
    log.appendLine(`Pipeline run ${record.id}: ${record.status}`);
    if (record.status === 'failed') {
      const failed = record.stages.find((s) => s.outcome === 'failed');
      void vscode.window.showErrorMessage(`MLOps: ${failed?.error ?? 'the pipeline run failed.'}`, 'Show Output').then((pick) => pick && log.show());
    }
    return record;
  };

  /** The target a node of the Targets view names, the one given, or one the user picks; undefined when they pick none. */
  const runOnTarget = async (arg?: string | { target?: string }): Promise<PipelineRunRecord | undefined> => {
    const named = typeof arg === 'string' ? arg : arg?.target;
    if (named) return run(undefined, false, named);
    const picked = await pickTarget(service.root, 'Run the pipeline on…', 'The stages run there; their outs come back into the workspace.');
    return picked && run(undefined, false, picked.name);
  };

  const openStage = async (arg: number | StageArg): Promise<void> => {
    const line = typeof arg === 'number' ? arg : arg === undefined ? 1 : model.stages.find((s) => s.name === stageName(arg))?.line ?? 1;
    const file = path.join(service.root, 'mlops.yaml');
    // From the welcome view of a project without one: a start, all comments.
    if (!fs.existsSync(file)) fs.writeFileSync(file, STARTER);
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
    const at = new vscode.Position(Math.max(0, line - 1), 0);
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenter);
  };

  const showDag = (): PipelineDagPanel => {
    if (panel) {
      panel.host.reveal();
      return panel;
    }
    const webview = vscode.window.createWebviewPanel(PIPELINE_DAG_VIEW_TYPE, 'Pipeline', vscode.ViewColumn.Active, {});
    return adopt(webview);
  };
  const adopt = (webview: vscode.WebviewPanel): PipelineDagPanel => {
    const p = new PipelineDagPanel(webview, context.extensionUri, model, (line) => log.appendLine(line));
    panel = p;
    p.host.onDidClose(() => { if (panel === p) panel = undefined; });
    return p;
  };

  const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(service.root, '{mlops.yaml,.mlops/pipelines/*}'));
  const onChange = () => void refresh();
  context.subscriptions.push(
    tree, view, watcher, watcher.onDidChange(onChange), watcher.onDidCreate(onChange), watcher.onDidDelete(onChange),
    // A saved dep or param file may change a stage's state.
    vscode.workspace.onDidSaveTextDocument(onChange),
    registerCommand('mlops.pipelines.run', () => run()),
    registerCommand('mlops.pipelines.runOnTarget', runOnTarget),
    registerCommand('mlops.pipelines.runStage', (arg: StageArg) => run(stageName(arg))),
    registerCommand('mlops.pipelines.runDownstream', (arg: StageArg) => run(stageName(arg), true)),
    registerCommand('mlops.pipelines.refresh', () => refresh()),
    registerCommand('mlops.pipelines.openStage', openStage),
    registerCommand('mlops.pipelines.showDag', showDag),
    vscode.window.registerWebviewPanelSerializer(PIPELINE_DAG_VIEW_TYPE, { deserializeWebviewPanel: async (webview) => void adopt(webview) }),
    { dispose: () => panel?.dispose() },
  );
  void refresh();
  return { model, tree, dagPanel: () => panel };
}
