// Runs that other processes write (here `mlops run` in a terminal, outside the
// extension) appear in the Runs view by themselves and follow their run live:
// the test never calls Refresh Runs nor the service's refresh.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MlopsApi } from '../../../src/extension/extension';
import type { RunsNode } from '../../../src/extension/runs/runsTree';
import { EXTENSION_ID, api, waitFor, workspaceRoot } from './workbench';

/** The run named `name` under experiment `experiment`, as the Runs view shows it now. */
function runInView(mlops: MlopsApi, experiment: string, name: string): (RunsNode & { kind: 'run' }) | undefined {
  const group = mlops.tree.getChildren().find((n) => n.kind === 'experiment' && n.name === experiment);
  if (!group) return undefined;
  return mlops.tree.getChildren(group).find((n): n is RunsNode & { kind: 'run' } => n.kind === 'run' && n.run.name === name);
}

describe('runs from other processes', () => {
  it('a run started with `mlops run` in a terminal appears in the Runs view and follows it to FINISHED without Refresh Runs', async () => {
    const mlops = await api();
    const root = workspaceRoot();
    const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');
    const go = path.join(root, 'other-process.go');
    fs.writeFileSync(path.join(root, 'other_process.py'), [
      'import os, time, mlops_workbench as mlops',
      'mlops.log_metric("loss", 0.5, step=0)',
      'mlops.flush()',
      `while not os.path.exists(${JSON.stringify(go)}): time.sleep(0.05)`,
      'mlops.log_metric("loss", 0.25, step=1)',
    ].join('\n'));
    let viewUpdates = 0;
    const subscription = mlops.tree.onDidChangeTreeData(() => viewUpdates++);
    const child = spawn(process.execPath, [cli, 'run', '--name', 'from-a-terminal', '--experiment', 'terminal', '--', 'python3', 'other_process.py'], {
      cwd: root, stdio: 'ignore', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const running = await waitFor('the terminal\'s run in the Runs view', () => {
        const node = runInView(mlops, 'terminal', 'from-a-terminal');
        return node?.keyMetric ? node : undefined;
      });
      assert.strictEqual(running.run.status, 'RUNNING');
      assert.strictEqual(running.keyMetric!.latest, 0.5);
      assert.ok(viewUpdates > 0, 'the view was told to redraw');

      const before = viewUpdates;
      fs.writeFileSync(go, '');
      assert.strictEqual(await exited, 0);
      const finished = await waitFor('the run to show FINISHED', () => {
        const node = runInView(mlops, 'terminal', 'from-a-terminal');
        return node?.run.status === 'FINISHED' ? node : undefined;
      });
      assert.strictEqual(finished.keyMetric!.latest, 0.25, 'the latest metric follows the run');
      assert.ok(viewUpdates > before, 'the view was told to redraw');
    } finally {
      subscription.dispose();
      child.kill();
      fs.rmSync(go, { force: true });
    }
  });
});
