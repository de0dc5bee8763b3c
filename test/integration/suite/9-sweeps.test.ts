// The Sweeps view in the real extension host: a sweep declared in mlops.yaml
// appears, runs from its command (two Python trials), shows its trials with
// the best one starred, and opens the comparison on the parallel-coordinates tab.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { SweepNode } from '../../../src/extension/sweeps/tree';
import { api, waitFor, workspaceRoot } from './workbench';

const TRIAL = 'import argparse\nimport mlops_workbench as mlops\np = argparse.ArgumentParser()\np.add_argument("--lr", type=float)\na = p.parse_args()\nfor s in range(3):\n    mlops.log_metric("sweep_score", (1 - abs(a.lr - 0.3)) * (s + 1) / 3, step=s)\n';

describe('sweeps', () => {
  it('runs a sweep of mlops.yaml from the Sweeps view and compares its trials', async function () {
    this.timeout(180_000);
    const mlops = await api();
    const root = workspaceRoot();
    const config = path.join(root, 'mlops.yaml');
    const before = fs.readFileSync(config, 'utf8');
    fs.writeFileSync(path.join(root, 'sweep_trial.py'), TRIAL);
    fs.writeFileSync(config, `${before}\nsweeps:\n  ui-sweep:\n    cmd: python3 sweep_trial.py\n    method: grid\n    objective: sweep_score\n    goal: maximize\n    space:\n      lr: [0.1, 0.3]\n`);
    try {
      const tree = mlops.sweeps;
      const idle = await waitFor('the sweep in the Sweeps view', async () =>
        (await tree.getChildren()).find((n): n is Extract<SweepNode, { kind: 'sweep' }> => n.kind === 'sweep' && n.sweep.name === 'ui-sweep'));
      assert.strictEqual(tree.getTreeItem(idle).contextValue, 'sweep.idle');
      assert.match(String(tree.getTreeItem(idle).description), /grid · 0\/2 trials/);

      const result = await vscode.commands.executeCommand<{ reason: string }>('mlops.sweeps.run', 'ui-sweep');
      assert.strictEqual(result?.reason, 'budget reached');
      const done = (await tree.getChildren()).find((n): n is Extract<SweepNode, { kind: 'sweep' }> => n.kind === 'sweep' && n.sweep.name === 'ui-sweep')!;
      assert.match(String(tree.getTreeItem(done).description), /grid · 2\/2 trials · best sweep_score=1/);
      const trials = tree.getChildren(done).map((n) => tree.getTreeItem(n));
      assert.deepStrictEqual(trials.map((t) => t.label), ['trial 2 ★', 'trial 1'], 'newest first, the best starred');
      assert.match(String(trials[0].description), /lr=0\.3/);

      await vscode.commands.executeCommand('mlops.sweeps.compare', 'ui-sweep');
      const shown = await waitFor('the trials on parallel coordinates', async () => {
        const i = await mlops.panels.compareRunsPanel?.inspect();
        return i && i.runIds.length === 2 ? i : undefined;
      });
      assert.strictEqual(shown.tab, 'parallel');
      assert.deepStrictEqual([...shown.runIds].sort(), tree.getChildren(done).map((n) => (n as Extract<SweepNode, { kind: 'trial' }>).trial.runId).sort());
    } finally {
      mlops.panels.compareRunsPanel?.dispose();
      fs.writeFileSync(config, before);
    }
  });
});
