// Runs the same compiled integration suite in desktop VS Code through
// @vscode/test-electron, for machines that can download VS Code (a laptop, a
// public CI); ours cannot, so `npm test` uses run-code-server.mjs instead.
//
//   npm run build && node test/integration/run-electron.mjs
//   env MLOPS_VSCODE_VERSION  VS Code to download (default 1.96.4, our engines floor; or "stable")
//   env MLOPS_IT_TIMEOUT_MS   overall limit (default 600000 = 10 min)
// On a Linux machine without a display run it under `xvfb-run -a`.
//
// There is no browser to drive here, so MLOPS_TEST_UI_DIR stays unset and UI
// tests skip themselves (see suite/uiBridge.ts). Prints `integration: N passed,
// N failed` like the code-server runner and exits 1 on a failure or zero tests.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const suiteDir = join(root, 'out', 'test', 'integration', 'suite');
const workspaceSource = join(root, 'examples', 'quickstart');

async function main() {
  if (!existsSync(join(suiteDir, 'index.js'))) {
    throw new Error(`${suiteDir}/index.js is missing: run \`npm run build\` first`);
  }
  delete process.env.MLOPS_TEST_UI_DIR; // no browser: UI tests must skip, not wait for answers
  const tmp = mkdtempSync(join(tmpdir(), 'mlops-it-electron-'));
  const results = join(tmp, 'results.json');
  const workspace = copyWorkspace(join(tmp, 'workspace', 'quickstart'));
  const timeoutMs = Number(process.env.MLOPS_IT_TIMEOUT_MS ?? 600_000);
  try {
    const exitCode = await withTimeout(
      runTests({
        version: process.env.MLOPS_VSCODE_VERSION ?? '1.96.4',
        extensionDevelopmentPath: root,
        extensionTestsPath: suiteDir,
        extensionTestsEnv: { MLOPS_TEST_RESULTS: results, MLOPS_TEST_WORKSPACE: workspace },
        launchArgs: launchArgs(workspace, tmp),
      }).catch((error) => {
        console.error(`integration: ${error.message}`);
        return 1;
      }),
      timeoutMs,
    );
    return report(exitCode, results);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function launchArgs(workspace, tmp) {
  const args = [
    workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes',
    '--user-data-dir', join(tmp, 'user-data'),
  ];
  if (process.getuid?.() === 0) args.push('--no-sandbox'); // Electron refuses to run as root otherwise
  return args;
}

/** A throwaway copy of examples/quickstart (without .mlops), so tests never dirty the repository. */
function copyWorkspace(target) {
  mkdirSync(target, { recursive: true });
  if (existsSync(workspaceSource)) {
    cpSync(workspaceSource, target, { recursive: true, filter: (src) => basename(src) !== '.mlops' });
  }
  return target;
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((resolveTimeout) => {
    timer = setTimeout(() => {
      console.error(`integration: timed out after ${ms / 1000} s`);
      resolveTimeout(1);
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Prints the summary line; returns the process exit code. */
function report(exitCode, resultsFile) {
  let results;
  try {
    results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  } catch {
    console.error(`integration: the suite wrote no results (${resultsFile})`);
  }
  const passed = results?.passed ?? 0;
  const failed = Math.max(results?.failed ?? 0, exitCode === 0 ? 0 : 1);
  if (results?.pending) console.log(`integration: ${results.pending} skipped (UI checks need the code-server runner)`);
  console.log(`integration: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`integration: ${error.message}`);
    console.log('integration: 0 passed, 1 failed');
    process.exit(1);
  },
);
