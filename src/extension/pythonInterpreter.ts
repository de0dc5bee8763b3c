import * as vscode from 'vscode';

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } };
  settings?: { getExecutionDetails(resource?: vscode.Uri): { execCommand?: string[] } };
}

/**
 * The interpreter for a tracked run: the one chosen in the Python extension when
 * it is installed, else the `mlops.pythonPath` setting, else `python3`.
 */
export async function pythonInterpreter(resource: vscode.Uri): Promise<string> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (ext) {
    try {
      const api = ext.isActive ? ext.exports : await ext.activate();
      const chosen = api.environments?.getActiveEnvironmentPath(resource).path ?? api.settings?.getExecutionDetails(resource).execCommand?.[0];
      if (chosen && chosen !== 'python') return chosen;
    } catch {
      // The Python extension failed to answer; fall back to the setting.
    }
  }
  const configured = vscode.workspace.getConfiguration('mlops', resource).get<string>('pythonPath', '').trim();
  return configured || 'python3';
}
