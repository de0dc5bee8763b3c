// One fresh Node process = one activation sample (no module cache, no warm JIT).
//   extension: load dist/extension.js with the vscode stub, call activate(context),
//              await api.service.ready (the tracking store opened on the workspace),
//              then ask the Runs tree for its first two levels as VS Code would.
//   baseline:  load a trivial extension module (one registerCommand) with the same
//              stub and activate it; then the floor of "store ready": instantiate
//              sql.js and open the same tracking.db bytes, nothing else; then an idle event
//              loop watched as long as the extension took to get ready (idleMs).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { installVscodeStub, fakeContext, unknownUsed } = require('./vscodeStub.cjs');

const [mode, workspace, repoRoot, scratch, idleMs] = process.argv.slice(2);
const now = () => performance.now();
/** engine.mjs's engine(), which this CommonJS file cannot import: named alike so that test/unit/benchScripts.test.ts checks its calls too. */
const engine = (module) => require(path.join(repoRoot, 'out', module));

async function main() {
  installVscodeStub(workspace);
  const ctx = fakeContext(scratch);
  const out = {};
  if (mode === 'extension') {
    let t = now();
    const ext = require(path.join(repoRoot, 'dist', 'extension.js'));
    out.load = now() - t;
    // How long the event loop (the extension host's only JS thread) is blocked while the store opens.
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    t = now();
    const api = ext.activate(ctx);
    out.activate = now() - t;
    await api.service.ready;
    out.ready = now() - t;
    await new Promise((r) => setTimeout(r, 20)); // let the monitor sample once after the last block
    loop.disable();
    out.maxBlock = loop.max / 1e6;
    t = now();
    const [experiment] = api.tree.getChildren();
    const runs = experiment ? api.tree.getChildren(experiment) : [];
    for (const node of runs) api.tree.getTreeItem(node);
    out.tree = now() - t;
    out.runs = runs.length;
  } else {
    const file = path.join(scratch, 'trivial-extension.js');
    fs.writeFileSync(file, "const vscode = require('vscode');\nexports.activate = (ctx) => { ctx.subscriptions.push(vscode.commands.registerCommand('bench.noop', () => undefined)); return {}; };\n");
    let t = now();
    const ext = require(file);
    out.load = now() - t;
    t = now();
    ext.activate(ctx);
    out.activate = now() - t;
    const { loadSqlJs } = engine('src/core/tracking/sqlite.js');
    t = now();
    const SQL = await loadSqlJs();
    const db = new SQL.Database(fs.readFileSync(path.join(workspace, '.mlops', 'tracking.db')));
    out.ready = now() - t;
    db.close();
    // The floor of "longest block": the same monitor on an idle event loop, for as long as the
    // extension took to get ready (on a busy machine the process is descheduled now and then).
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    await new Promise((r) => setTimeout(r, Number(idleMs) || 1000));
    loop.disable();
    out.maxBlock = loop.max / 1e6;
  }
  for (const d of ctx.subscriptions) d.dispose();
  out.unknown = [...unknownUsed];
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
