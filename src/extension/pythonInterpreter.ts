import * as vscode from 'vscode';

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath(resource?: vscode.Uri): { path: string }; known?: readonly { path: string }[] };
  settings?: { getExecutionDetails(resource?: vscode.Uri): { execCommand?: string[] } };
}

/**
 * The interpreter for a tracked run: the one chosen in the Python extension when
 * it is installed, else the `mlops.pythonPath` setting, else `python3`.
 */
export async function pythonInterpreter(resource: vscode.Uri): Promise<string> {
  const api = await pythonExtension();
  if (api) {
    try {
      const chosen = api.environments?.getActiveEnvironmentPath(resource).path ?? api.settings?.getExecutionDetails(resource).execCommand?.[0];
      if (chosen && chosen !== 'python') return chosen;
    } catch {
      // The Python extension failed to answer; fall back to the setting.
    }
  }
  const configured = vscode.workspace.getConfiguration('mlops', resource).get<string>('pythonPath', '').trim();
  return configured || 'python3';
}

/** The interpreters the Python extension knows of (none without it). */
export async function knownPythonInterpreters(): Promise<string[]> {
  try {
    return (await pythonExtension())?.environments?.known?.map((e) => e.path) ?? [];
  } catch {
    return [];
  }
}

async function pythonExtension(): Promise<PythonExtensionApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  try {
    return ext && (ext.isActive ? ext.exports : await ext.activate());
  } catch {
    return undefined; // it failed to activate; the setting decides
  }
}
