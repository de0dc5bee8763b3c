import * as vscode from 'vscode';

/** A row that shows a problem of mlops.yaml in a view (a warning icon, the whole message on hover). */
export function problemItem(label: string, message: string): vscode.TreeItem {
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
  item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
  item.tooltip = message;
  return item;
}
