import * as vscode from 'vscode';
import { lineageText, modelLineage } from '../../core/registry/lineage';
import type { TrackingService } from '../trackingService';

export const LINEAGE_SCHEME = 'mlops-lineage';

/** `mlops-lineage:/Lineage of churn v3?model=churn&version=3`: a model version's lineage as a read-only document. */
export function lineageUri(model: string, version: number): vscode.Uri {
  const query = new URLSearchParams({ model, version: String(version) }).toString();
  return vscode.Uri.from({ scheme: LINEAGE_SCHEME, path: `/Lineage of ${model.replace(/[/\\]/g, '_')} v${version}`, query });
}

/** Writes a lineage document each time it is opened, from the registry as it is then; nothing to save. */
export class LineageContentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly service: TrackingService) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const query = new URLSearchParams(uri.query);
    const model = query.get('model') ?? '';
    const version = Number(query.get('version'));
    const project = await this.service.project();
    const text = lineageText(await modelLineage(project.registry, project.tracking, project.snapshots, model, version));
    return `Lineage of ${model} v${version}\n\n${text}\n`;
  }
}
