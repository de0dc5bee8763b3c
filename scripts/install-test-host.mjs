// Installs code-server (the VS Code server plus its web workbench) into the
// ignored folder .cache/test-host/, once, without any download outside the
// npm registry: its install scripts would fetch from GitHub and refuse root.
// Recipe: shared/reference/vscode-test-host.md. Usage: node scripts/install-test-host.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CODE_SERVER_VERSION = '4.96.4'; // bundles VS Code 1.96.4; engines.vscode must stay <= it

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const hostDir = join(root, '.cache', 'test-host');
export const codeServerDir = join(hostDir, 'node_modules', 'code-server');
export const codeServerEntry = join(codeServerDir, 'out', 'node', 'entry.js');
const vscodeDir = join(codeServerDir, 'lib', 'vscode');
const marker = join(hostDir, 'installed.json');

// Native modules of the VS Code server that must be compiled for this Node.
const NATIVE_MODULES = ['@parcel/watcher', '@vscode/deviceid', '@vscode/spdlog', 'kerberos', 'native-watchdog', 'node-pty'];

/** Returns the code-server folder, installing it first unless the marker says it is there. */
export function installTestHost() {
  if (isInstalled()) return codeServerDir;
  checkPrerequisites();
  const log = (msg) => console.log(`[test-host] ${msg}`);
  const started = Date.now();
  rmSync(hostDir, { recursive: true, force: true });
  mkdirSync(hostDir, { recursive: true });
  writeFileSync(join(hostDir, 'package.json'), '{ "private": true }\n');

  log(`installing code-server@${CODE_SERVER_VERSION} into ${hostDir}`);
  npm(hostDir, ['install', `code-server@${CODE_SERVER_VERSION}`, '--ignore-scripts']);
  npm(hostDir, ['rebuild', 'argon2']);

  log('installing the VS Code server dependencies');
  pointGitDependenciesAtRegistry(join(vscodeDir, 'npm-shrinkwrap.json'));
  npm(vscodeDir, ['install', '--omit=dev', '--ignore-scripts']);
  log(`compiling native modules: ${NATIVE_MODULES.join(', ')}`);
  npm(vscodeDir, ['rebuild', ...NATIVE_MODULES]);

  linkRipgrep();
  redoPostinstallLinks();
  log('installing the built-in extensions dependencies');
  npm(join(vscodeDir, 'extensions'), ['install', '--omit=dev']);

  writeFileSync(marker, JSON.stringify({ version: CODE_SERVER_VERSION, installedAt: new Date().toISOString() }) + '\n');
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return codeServerDir;
}

function isInstalled() {
  try {
    const { version } = JSON.parse(readFileSync(marker, 'utf8'));
    return version === CODE_SERVER_VERSION && existsSync(codeServerEntry);
  } catch {
    return false;
  }
}

/** Fails early, naming the Debian package, instead of deep inside node-gyp or at run time. */
function checkPrerequisites() {
  const missing = [];
  if (!existsSync('/usr/bin/chromium')) missing.push('apt package chromium (for /usr/bin/chromium)');
  if (!onPath('rg')) missing.push('apt package ripgrep (for rg)');
  if (!existsSync('/usr/include/krb5.h')) missing.push('apt package libkrb5-dev (headers for the kerberos native module)');
  for (const tool of ['make', 'g++', 'python3']) {
    if (!onPath(tool)) missing.push(`apt packages build-essential python3 (for ${tool}, used by node-gyp)`);
  }
  if (!nodeDir()) {
    missing.push(`Node's C headers at ${nodeHeadersPath()} (NodeSource's nodejs ships them), or npm_config_nodedir; else node-gyp downloads them`);
  }
  if (missing.length) {
    throw new Error(
      `The VS Code test host cannot be installed; missing:\n  - ${missing.join('\n  - ')}\n` +
        'Fix with: apt-get install -y --no-install-recommends chromium libkrb5-dev ripgrep build-essential python3',
    );
  }
}

function npm(cwd, args) {
  const env = {
    ...process.env,
    npm_config_yes: 'true', // node-pty's install runs `npx node-gyp`
    npm_config_build_from_source: 'true', // never fetch prebuilt binaries from GitHub
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  env.npm_config_nodedir = nodeDir(); // else node-gyp downloads the headers
  const result = spawnSync('npm', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').slice(-40).join('\n');
    throw new Error(`npm ${args.join(' ')} failed in ${cwd} (exit ${result.status ?? result.signal}):\n${output}`);
  }
}

function nodeHeadersPath() {
  return resolve(dirname(process.execPath), '..', 'include', 'node', 'node_version.h');
}

/** Where node-gyp finds the running Node's headers without a download. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  return existsSync(nodeHeadersPath()) ? resolve(dirname(process.execPath), '..') : undefined;
}

/** npm-shrinkwrap.json pins some packages to GitHub commits; the registry has the same tarball. */
function pointGitDependenciesAtRegistry(shrinkwrapPath) {
  const registry = npmRegistry();
  const shrinkwrap = JSON.parse(readFileSync(shrinkwrapPath, 'utf8'));
  for (const [path, entry] of Object.entries(shrinkwrap.packages ?? {})) {
    if (!/^git\+|^github:/.test(entry.resolved ?? '')) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const base = name.split('/').pop();
    entry.resolved = `${registry}${name}/-/${base}-${entry.version}.tgz`;
  }
  writeFileSync(shrinkwrapPath, JSON.stringify(shrinkwrap, null, 2) + '\n');
}

function npmRegistry() {
  const result = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' });
  const url = (result.stdout ?? '').trim() || 'https://registry.npmjs.org/';
  return url.endsWith('/') ? url : `${url}/`;
}

/** @vscode/ripgrep downloads rg from GitHub; Debian's works the same. */
function linkRipgrep() {
  const binDir = join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
  mkdirSync(binDir, { recursive: true });
  replaceWithSymlink(onPath('rg'), join(binDir, 'rg'));
}

/** What code-server's postinstall.sh does after its install step. */
function redoPostinstallLinks() {
  replaceWithSymlink('node_modules', join(vscodeDir, 'node_modules.asar'));
  replaceWithSymlink('code-linux.sh', join(vscodeDir, 'bin', 'remote-cli', 'code-server'));
  replaceWithSymlink('browser-linux.sh', join(vscodeDir, 'bin', 'helpers', 'browser.sh'));
}

function replaceWithSymlink(target, linkPath) {
  rmSync(linkPath, { recursive: true, force: true });
  symlinkSync(target, linkPath);
}

function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    installTestHost();
    console.log(`[test-host] code-server ${CODE_SERVER_VERSION} ready at ${codeServerDir}`);
  } catch (error) {
    console.error(`[test-host] ${error.message}`);
    process.exit(1);
  }
}
