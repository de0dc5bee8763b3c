import * as vscode from 'vscode';
import type { TrackingService } from '../trackingService';

export const SNAPSHOT_SCHEME = 'mlops-snapshot';

/** `mlops-snapshot:/<snapshot-id>/<path>`: a file as a snapshot holds it, read-only, for viewers and diff editors. */
export function snapshotUri(snapshot: string, file: string): vscode.Uri {
  return vscode.Uri.from({ scheme: SNAPSHOT_SCHEME, path: `/${snapshot}/${file}` });
}

export class SnapshotContentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly service: TrackingService) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const [, snapshot, ...rest] = uri.path.split('/');
    const project = await this.service.project();
    const bytes = await project.snapshots.readFile(snapshot, rest.join('/'));
    if (bytes.subarray(0, 8000).includes(0)) return `(binary file, ${bytes.length} bytes: not shown as text)`;
    return Buffer.from(bytes).toString('utf8');
  }
}
