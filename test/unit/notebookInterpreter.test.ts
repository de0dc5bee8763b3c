// Finding an interpreter that can run notebooks, with real interpreters: a bare
// venv (no Jupyter) against jupyterPython() (python3 or Debian's /usr/bin/python3
// with python3-nbclient and python3-ipykernel).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkNotebookInterpreter, findNotebookInterpreter, missingNotebookModules } from '../../src/core/notebooks/notebookInterpreter';
import { repoRoot, tmpWorkspace } from './helpers';
import { bareVenv, jupyterPython, writeNotebook } from './notebooksFixtures';

describe('interpreters that can run notebooks (real interpreters)', () => {
  it('names what an interpreter lacks, nothing for one with Jupyter, undefined for one that does not start', async () => {
    const ws = tmpWorkspace();
    assert.deepEqual(await missingNotebookModules(bareVenv(ws.root)), ['nbformat', 'nbclient', 'jupyter_client', 'ipykernel']);
    assert.deepEqual(await missingNotebookModules(jupyterPython()), []);
    assert.equal(await missingNotebookModules(path.join(ws.root, 'no-such-python')), undefined);
  });

  it('finds the first candidate with Jupyter and offers it in place of the chosen one', async () => {
    const ws = tmpWorkspace();
    const bare = bareVenv(ws.root);
    assert.equal(await findNotebookInterpreter([bare, path.join(ws.root, 'missing'), jupyterPython(), bare]), jupyterPython());
    assert.equal(await findNotebookInterpreter([bare]), undefined);
    const check = await checkNotebookInterpreter(bare, [bare, jupyterPython()]);
    assert.deepEqual(check, { python: bare, missing: ['nbformat', 'nbclient', 'jupyter_client', 'ipykernel'], alternative: jupyterPython() });
    assert.equal(await checkNotebookInterpreter(jupyterPython()), undefined);
  });

  it('`mlops notebook run` turns to /usr/bin/python3 when python3 on PATH lacks Jupyter, and leaves no run when told to use one that lacks it', async () => {
    assert.deepEqual(await missingNotebookModules('/usr/bin/python3'), [], 'this check needs python3-nbclient and python3-ipykernel in /usr/bin/python3');
    const ws = tmpWorkspace();
    const bare = bareVenv(ws.root);
    writeNotebook(path.join(ws.root, 'nb.ipynb'), [{ code: 'x = 1' }]);
    const cli = (...args: string[]) => {
      // The bare venv's python3 comes first on PATH, as an activated venv without Jupyter would.
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.dirname(bare)}${path.delimiter}${process.env.PATH}` };
      delete env.MLOPS_PYTHON;
      const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'notebook', 'run', 'nb.ipynb', ...args], { cwd: ws.root, encoding: 'utf8', env });
      return { code: r.status, err: r.stderr };
    };
    const refused = cli('--python', bare);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /cannot run notebooks: it lacks nbformat, nbclient, jupyter_client, ipykernel\. \S+ has them: choose it instead \(mlops notebook run --python \S+\)/);
    assert.ok(!fs.existsSync(ws.runsDir) || fs.readdirSync(ws.runsDir).length === 0, 'no run was created');
    const ran = cli();
    assert.equal(ran.code, 0, ran.err);
    assert.match(ran.err, /python3 lacks nbformat, nbclient, jupyter_client, ipykernel; running the notebook with \/usr\/bin\/python3/);
    assert.equal(fs.readdirSync(ws.runsDir).length, 1);
  });
});
