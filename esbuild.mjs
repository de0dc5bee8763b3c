// Bundles the extension, the CLI, the worker threads and the webviews into dist/.
// `vscode` stays external; sql.js's wasm file is copied beside the bundles.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// Output is rebuilt from scratch, so a deleted source leaves no stale module or test behind.
if (!watch) for (const dir of ['dist', 'out']) rmSync(dir, { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
copyFileSync(join(dirname(require.resolve('sql.js')), 'sql-wasm.wasm'), 'dist/sql-wasm.wasm');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  external: ['vscode', 'onnxruntime-node'], // native addon: loaded from node_modules at run time
};

// The panels' browser code: plain TS bundled for the webview (chart.js and the UI toolkit inside).
const web = { bundle: true, platform: 'browser', target: 'es2020', format: 'iife', sourcemap: true, minify: production, logLevel: 'warning' };

const builds = [
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // The MLflow endpoint's batch reader thread, started by both from beside them (src/core/mlflow/batchReader.ts).
  { ...common, entryPoints: ['src/core/mlflow/batchWorker.ts'], outfile: 'dist/batchWorker.js' },
  // The thread that reads a large prediction-log window for a drift check (src/core/monitoring/windowThread.ts).
  { ...common, entryPoints: ['src/core/monitoring/windowWorker.ts'], outfile: 'dist/windowWorker.js' },
  // One deployment's model server process, started by the serving supervisor from beside it (src/core/serving/supervisor.ts).
  { ...common, entryPoints: ['src/core/serving/modelServer.ts'], outfile: 'dist/modelServer.js' },
  // The host side of a remote deployment, shipped beside modelServer.js to an ssh host (src/core/serving/remoteDeployment.ts).
  { ...common, entryPoints: ['src/core/serving/deploymentHost.ts'], outfile: 'dist/deploymentHost.js' },
  // The thread that warms up sql.js's WebAssembly before the extension host queries (src/core/tracking/sqlite.ts).
  { ...common, entryPoints: ['src/core/tracking/sqliteWarmup.ts'], outfile: 'dist/sqliteWarmup.js' },
  // The language client library, loaded by the extension when the first mlops.yaml opens (src/extension/language/client.ts).
  { ...common, entryPoints: ['src/extension/language/client.ts'], outfile: 'dist/languageClient.js' },
  // The mlops.yaml language server, started by the extension's language client (src/extension/language/register.ts).
  { ...common, entryPoints: ['src/language/server.ts'], outfile: 'dist/languageServer.js' },
  { ...web, entryPoints: ['webview/runs/main.ts'], outfile: 'dist/webview/runs.js' },
  { ...web, entryPoints: ['webview/compare/main.ts'], outfile: 'dist/webview/compare.js' },
  { ...web, entryPoints: ['webview/pipelines/main.ts'], outfile: 'dist/webview/pipelines.js' },
  { ...web, entryPoints: ['webview/drift/main.ts'], outfile: 'dist/webview/drift.js' },
  { ...web, entryPoints: ['webview/variants/main.ts'], outfile: 'dist/webview/variants.js' },
];

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
