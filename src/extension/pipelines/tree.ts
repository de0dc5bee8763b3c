import * as vscode from 'vscode';
import { RefreshableTree } from '../refreshableTree';
import type { DagStageState } from '../../protocol/pipelines';
import type { PipelineModel, StageView } from './model';
import { problemItem } from '../problemItem';

/** Nodes of the Pipelines view: stages in dependency order, or what stops the pipeline. */
export type PipelineNode =
  | { kind: 'stage'; stage: StageView }
  | { kind: 'problem'; message: string; line: number };

const WORDS: Record<DagStageState, string> = {
  'up-to-date': 'up to date', changed: 'changed', restorable: 'outs missing', running: 'running', ran: 'ran',
  skipped: 'skipped', restored: 'restored', failed: 'failed', 'not-run': 'not run',
};

const ICONS: Record<DagStageState, vscode.ThemeIcon> = {
  'up-to-date': new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  changed: new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('charts.yellow')),
  restorable: new vscode.ThemeIcon('history', new vscode.ThemeColor('charts.yellow')),
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  ran: new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('testing.iconPassed')),
  skipped: new vscode.ThemeIcon('debug-step-over', new vscode.ThemeColor('testing.iconPassed')),
  restored: new vscode.ThemeIcon('history', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  'not-run': new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground')),
};

export function stateWords(state: DagStageState): string {
  return WORDS[state];
}

export class PipelinesTreeProvider extends RefreshableTree<PipelineNode> {

  constructor(private readonly model: PipelineModel) {
    super();
  }

  getTreeItem(node: PipelineNode): vscode.TreeItem {
    if (node.kind === 'problem') {
      const item = problemItem(node.message.split('\n')[0], node.message);
      item.command = { command: 'mlops.pipelines.openStage', title: 'Open in mlops.yaml', arguments: [node.line] };
      item.contextValue = 'pipelineProblem';
      return item;
    }
    const s = node.stage;
    const item = new vscode.TreeItem(s.name, vscode.TreeItemCollapsibleState.None);
    item.id = `stage:${s.name}`;
    item.description = [WORDS[s.shown], s.why[0]].filter(Boolean).join(' · ');
    item.iconPath = ICONS[s.shown];
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${s.name}** — ${WORDS[s.shown]}\n\n`);
    md.appendCodeblock(s.cmd, 'sh');
    for (const why of s.why) md.appendText(`• ${why}\n`);
    if (s.upstream.length) md.appendText(`\nruns after: ${s.upstream.join(', ')}`);
    item.tooltip = md;
    item.accessibilityInformation = { label: `Stage ${s.name}, ${WORDS[s.shown]}${s.why.length ? `: ${s.why.join('; ')}` : ''}` };
    item.contextValue = s.shown === 'running' ? 'pipelineStage.running' : 'pipelineStage';
    item.command = { command: 'mlops.pipelines.openStage', title: 'Open in mlops.yaml', arguments: [s.line] };
    return item;
  }

  getChildren(node?: PipelineNode): PipelineNode[] {
    if (node) return [];
    if (this.model.error) return problemNodes(this.model.error);
    return this.model.stages.map((stage) => ({ kind: 'stage', stage }));
  }
}

/** "…/mlops.yaml:12: message" lines of a PipelineError as nodes that open their line. */
function problemNodes(error: string): PipelineNode[] {
  return error.split(/\n(?=\S*mlops\.yaml:\d+: )/).map((text) => {
    const m = /^\S*mlops\.yaml:(\d+): ([\s\S]*)$/.exec(text);
    return { kind: 'problem', message: m ? `line ${m[1]}: ${m[2]}` : text, line: m ? Number(m[1]) : 1 };
  });
}
