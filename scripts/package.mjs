#!/usr/bin/env node
// `npm run package [-- --target <platform-arch>]`: builds the .vsix for one platform (default:
// this machine's), with onnxruntime-node's native runtime for that platform inside, so that the
// installed extension deploys, evaluates and gates ONNX models. onnxruntime-node ships every
// platform's binaries (290 MB); one platform's is 25–135 MB before compression. Linux x64's
// comes too: a remote deployment sends its host the binding from here (remoteDeployment.ts),
// and most GPU hosts are Linux x64.
//
// The bundles keep onnxruntime-node external (esbuild.mjs) and require it from beside them:
// its JavaScript and the one platform's binaries are copied to dist/node_modules/.
// `--stage-only DIR` copies them into DIR/node_modules/ and stops (what the tests check).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(repo, 'package.json'));
/** vsce's platform names (`code --install-extension` picks by them) for onnxruntime-node's bin folders. */
const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];
/** The remote hosts' platform whose binaries every package carries besides its own. */
const REMOTE_HOSTS = 'linux-x64';

function option(name) {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

/** Copies onnxruntime-node's JavaScript, the target's binaries and Linux x64's (and onnxruntime-common) into `into`/node_modules. */
function stageOnnxRuntime(into, target) {
  const ort = path.dirname(require.resolve('onnxruntime-node/package.json'));
  const commonMain = require.resolve('onnxruntime-common', { paths: [ort] }); // its exports hide package.json
  const common = commonMain.slice(0, commonMain.lastIndexOf(`${path.sep}dist${path.sep}`));
  const { binary } = JSON.parse(fs.readFileSync(path.join(ort, 'package.json'), 'utf8'));
  const napi = `napi-v${binary.napi_versions.at(-1)}`;
  const bins = [...new Set([target, REMOTE_HOSTS])].map((t) => path.join(napi, ...t.split('-')));
  for (const bin of bins) if (!fs.existsSync(path.join(ort, 'bin', bin))) fail(`onnxruntime-node has no binaries for ${target} (${path.join(ort, 'bin', bin)} is missing); targets: ${TARGETS.join(', ')}.`);
  const modules = path.join(into, 'node_modules');
  fs.rmSync(modules, { recursive: true, force: true });
  const copy = (from, to, filter) => fs.cpSync(from, to, { recursive: true, filter: filter ?? (() => true) });
  const noMaps = (f) => !f.endsWith('.map') && !f.endsWith('.d.ts');
  // Only what loading it needs: its install script (and that script's dependencies) never runs here.
  copy(path.join(ort, 'package.json'), path.join(modules, 'onnxruntime-node', 'package.json'));
  copy(path.join(ort, 'dist'), path.join(modules, 'onnxruntime-node', 'dist'), noMaps);
  for (const bin of bins) copy(path.join(ort, 'bin', bin), path.join(modules, 'onnxruntime-node', 'bin', bin));
  copy(path.join(common, 'package.json'), path.join(modules, 'onnxruntime-common', 'package.json'));
  copy(path.join(common, 'dist', 'cjs'), path.join(modules, 'onnxruntime-common', 'dist', 'cjs'), noMaps);
  return modules;
}

const target = option('--target') ?? `${process.platform}-${process.arch}`;
if (!TARGETS.includes(target)) fail(`"${target}" is not a target; use one of ${TARGETS.join(', ')}.`);
const stageOnly = option('--stage-only');
if (stageOnly) {
  stageOnnxRuntime(path.resolve(stageOnly), target);
  process.exit(0);
}

const run = (command, args) => {
  const r = spawnSync(command, args, { cwd: repo, stdio: 'inherit' });
  if (r.status !== 0) fail(`${command} ${args.join(' ')} failed (exit ${r.status ?? r.signal}).`);
};
run(process.execPath, ['esbuild.mjs', '--production']);
stageOnnxRuntime(path.join(repo, 'dist'), target);
const { name, version } = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const out = `${name}-${target}-${version}.vsix`;
run(process.execPath, [require.resolve('@vscode/vsce/vsce'), 'package', '--target', target, '--out', out, '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository']);
console.log(`\nInstall it with: code --install-extension ${out}`);
