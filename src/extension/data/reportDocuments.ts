import * as vscode from 'vscode';

export const REPORT_SCHEME = 'mlops-report';

/**
 * Read-only Markdown documents a command writes once (a snapshot diff's summary, a reproduction's
 * comparison): unlike an Untitled document they close without asking to save. Each name shows
 * its latest text; the texts live as long as the window.
 */
export class ReportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? 'This report is from an earlier window: run its command again.\n';
  }

  /** Opens `text` as `<title>.md` in a preview editor. */
  async show(title: string, text: string): Promise<vscode.TextDocument> {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${title.replace(/[/\\]/g, '_')}.md` });
    const known = this.texts.has(uri.path);
    this.texts.set(uri.path, text);
    if (known) this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc;
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
