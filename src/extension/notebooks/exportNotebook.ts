import * as vscode from 'vscode';

/** What VS Code's built-in ipynb extension (`vscode.ipynb`) exports. */
interface IpynbApi {
  exportNotebook?(notebook: vscode.NotebookData): Promise<string>;
}

/**
 * The notebook as .ipynb text with its current outputs, as it is in the editor
 * (saved or not). Serialized by VS Code's own ipynb extension, which every VS Code
 * ships, so it is the same JSON a save would write; a small serializer of ours
 * stands in when that extension is disabled.
 */
export async function exportNotebook(doc: vscode.NotebookDocument): Promise<string> {
  const data = new vscode.NotebookData(doc.getCells().map(cellData));
  data.metadata = doc.metadata;
  try {
    const ext = vscode.extensions.getExtension<IpynbApi>('vscode.ipynb');
    const api = ext ? (ext.isActive ? ext.exports : await ext.activate()) : undefined;
    if (api?.exportNotebook) return await api.exportNotebook(data);
  } catch {
    // Fall back to our own serializer below.
  }
  return exportNotebookSync(doc);
}

function cellData(cell: vscode.NotebookCell): vscode.NotebookCellData {
  const data = new vscode.NotebookCellData(cell.kind, cell.document.getText(), cell.document.languageId);
  data.outputs = [...cell.outputs];
  const order = cell.executionSummary?.executionOrder;
  // The ipynb serializer takes execution_count from the cell metadata.
  data.metadata = { ...cell.metadata, ...(cell.kind === vscode.NotebookCellKind.Code ? { execution_count: order ?? cell.metadata.execution_count ?? null } : {}) };
  data.executionSummary = cell.executionSummary;
  return data;
}

const decoder = new TextDecoder();

/** The notebook as .ipynb text without asking the ipynb extension (for deactivation, which cannot wait). */
export function exportNotebookSync(doc: vscode.NotebookDocument): string {
  return JSON.stringify(fallbackIpynb(doc), null, 1) + '\n';
}

/** A plain nbformat 4 notebook from the document: sources, outputs, execution counts, tags. */
function fallbackIpynb(doc: vscode.NotebookDocument): Record<string, unknown> {
  const meta = (doc.metadata?.metadata ?? doc.metadata?.custom?.metadata ?? {}) as Record<string, unknown>;
  return {
    cells: doc.getCells().map((cell) => {
      const source = splitLines(cell.document.getText());
      const metadata = (cell.metadata?.metadata ?? cell.metadata?.custom?.metadata ?? {}) as Record<string, unknown>;
      if (cell.kind === vscode.NotebookCellKind.Markup) return { cell_type: 'markdown', metadata, source };
      return {
        cell_type: 'code',
        execution_count: cell.executionSummary?.executionOrder ?? null,
        metadata,
        outputs: cell.outputs.map(toJupyterOutput),
        source,
      };
    }),
    metadata: meta,
    nbformat: 4,
    nbformat_minor: 4,
  };
}

function splitLines(text: string): string[] {
  return text.split(/(?<=\n)/).filter((line) => line.length > 0);
}

function toJupyterOutput(output: vscode.NotebookCellOutput): Record<string, unknown> {
  const error = output.items.find((i) => i.mime === 'application/vnd.code.notebook.error');
  if (error) {
    const e = JSON.parse(decoder.decode(error.data)) as { name?: string; message?: string; stack?: string };
    return { output_type: 'error', ename: e.name ?? 'Error', evalue: e.message ?? '', traceback: (e.stack ?? '').split('\n') };
  }
  const stream = output.items.find((i) => i.mime === 'application/vnd.code.notebook.stdout' || i.mime === 'application/vnd.code.notebook.stderr');
  if (stream) {
    return { output_type: 'stream', name: stream.mime.endsWith('stderr') ? 'stderr' : 'stdout', text: splitLines(decoder.decode(stream.data)) };
  }
  const data: Record<string, unknown> = {};
  for (const item of output.items) {
    if (item.mime.startsWith('image/') && item.mime !== 'image/svg+xml') data[item.mime] = Buffer.from(item.data).toString('base64');
    else if (item.mime === 'application/json') data[item.mime] = JSON.parse(decoder.decode(item.data));
    else data[item.mime] = splitLines(decoder.decode(item.data));
  }
  return { output_type: 'display_data', data, metadata: {} };
}

/** The text of a cell's error output (`ZeroDivisionError: division by zero`), if it has one. */
export function cellErrorText(cell: vscode.NotebookCell): string | undefined {
  for (const output of cell.outputs) {
    for (const item of output.items) {
      if (item.mime !== 'application/vnd.code.notebook.error') continue;
      try {
        const e = JSON.parse(decoder.decode(item.data)) as { name?: string; message?: string };
        return [e.name, e.message].filter(Boolean).join(': ') || 'error';
      } catch {
        return 'error';
      }
    }
  }
  return undefined;
}
