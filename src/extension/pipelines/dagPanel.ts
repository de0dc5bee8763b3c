// The pipeline DAG panel: hosts the webview (webview/pipelines), which draws the
// stages as a layered graph from typed messages, and answers its asks.

import * as vscode from 'vscode';
import { PIPELINE_DAG_PANEL, type PipelineDagContract } from '../../protocol/pipelines';
import { HostedPanel, PanelHost } from '../panels/panelHost';
import type { PipelineModel } from './model';

export class PipelineDagPanel extends HostedPanel<PipelineDagContract> {
  readonly host: PanelHost<PipelineDagContract>;

  constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, model: PipelineModel, log: (line: string) => void) {
    super();
    this.host = new PanelHost<PipelineDagContract>(panel, extensionUri, {
      panel: PIPELINE_DAG_PANEL,
      title: 'Pipeline',
      script: 'pipelines',
      styles: ['panels.css', 'pipelineDag.css'],
      log,
      handlers: {
        'dag/load': () => model.dagData(),
        'dag/run': ({ stage, downstream }) => {
          const command = stage === undefined ? 'mlops.pipelines.run' : downstream ? 'mlops.pipelines.runDownstream' : 'mlops.pipelines.runStage';
          // Not awaited: the run reports through the view and its progress notification.
          void vscode.commands.executeCommand(command, ...(stage === undefined ? [] : [stage]));
          return null;
        },
        'dag/open': async ({ stage }) => {
          await vscode.commands.executeCommand('mlops.pipelines.openStage', model.stages.find((s) => s.name === stage)?.line ?? 1);
          return null;
        },
      },
    });
  }

  update(data: ReturnType<PipelineModel['dagData']>): void {
    this.host.notify('dag/update', data);
  }
}
