// `npm start`: builds, then opens examples/quickstart/ with the extension loaded.
// With desktop VS Code (`code` on PATH) it opens a development window; without
// it, it serves the same through code-server on 127.0.0.1 (PORT, default 8080,
// else any free port) and prints the URL to open. Ctrl-C stops the server.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startCodeServer, workbenchUrl } from '../test/integration/run-code-server.mjs';
import { installTestHost } from './install-test-host.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const workspace = join(root, 'examples', 'quickstart');

async function main() {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) return fail('the build failed');
  if (!existsSync(workspace)) return fail(`${workspace} is missing`);
  return onPath('code') ? openDesktop() : serveInBrowser();
}

function openDesktop() {
  console.log('Opening examples/quickstart in a VS Code development window…');
  const code = spawnSync('code', ['--new-window', `--extensionDevelopmentPath=${root}`, workspace], { stdio: 'inherit' });
  return code.status ?? 1;
}

async function serveInBrowser() {
  console.log('`code` is not on PATH: serving VS Code in the browser through code-server instead.');
  installTestHost();
  const tmp = mkdtempSync(join(tmpdir(), 'mlops-start-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const port = await freePort(Number(process.env.PORT ?? 8080));
  const server = await startCodeServer({ tmp, port });
  const url = workbenchUrl({ port, folder: workspace, extensionDevelopmentPath: root });
  console.log(`\nMLOps Workbench is running. Open:\n\n  ${url}\n\nPress Ctrl-C to stop.`);
  const { code, signal } = await server.exited;
  console.error(`code-server stopped (${code ?? signal})`);
  return 1;
}

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

function fail(message) {
  console.error(`npm start: ${message}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`npm start: ${error.message}`);
    process.exit(1);
  },
);
