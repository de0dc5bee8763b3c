// The test workspace is a fresh copy of examples/quickstart. Make it a git
// repository first, as a data scientist's project would be, so runs record
// their code commit (reproduce needs it).
import { execFileSync } from 'child_process';
import * as vscode from 'vscode';

before(() => {
  const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
  const git = (...args: string[]) => execFileSync('git', ['-C', root, '-c', 'user.email=test@example.com', '-c', 'user.name=Test', ...args], { stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'quickstart');
});
