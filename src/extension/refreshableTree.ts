import * as vscode from 'vscode';

/** What each view's tree provider shares: the change event, and refresh(), which redraws the whole view. */
export abstract class RefreshableTree<T> implements vscode.TreeDataProvider<T>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<T | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;

  refresh(): void {
    this.emitter.fire(undefined);
  }

  dispose(): void {
    this.emitter.dispose();
  }

  abstract getTreeItem(node: T): vscode.TreeItem | Thenable<vscode.TreeItem>;
  abstract getChildren(node?: T): vscode.ProviderResult<T[]>;
}
