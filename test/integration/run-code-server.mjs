// Runs the integration suite (out/test/integration/suite, compiled by `tsc -p .`)
// inside a real VS Code extension host: code-server's, driven by Debian's
// chromium through playwright-core. Recipe: shared/reference/vscode-test-host.md.
//
//   node test/integration/run-code-server.mjs [--timeout-ms N]
//   env MLOPS_IT_TIMEOUT_MS   overall limit (default 1200000 = 20 min)
//   env MLOPS_IT_VERBOSE=1    also print code-server's own output
//
// Prints `integration: N passed, N failed`; exits 1 on a failure, zero tests,
// a timeout, or code-server exiting early. The server's process group is
// always killed at the end.
//
// Environment the extension host inherits (set on code-server):
//   MLOPS_TEST_RESULTS    file the suite writes {passed, failed, pending, failures:[{title, message}]} to
//   MLOPS_TEST_WORKSPACE  the opened folder: a fresh copy of examples/quickstart (without .mlops)
//   MLOPS_TEST_UI_DIR     folder of the UI bridge below
//
// UI bridge protocol (suite side: test/integration/suite/uiBridge.ts)
//   The suite writes MLOPS_TEST_UI_DIR/<id>.request.json (atomically, by rename);
//   the runner polls the folder, performs the request with Playwright on the live
//   page, one at a time, and writes <id>.result.json the same way.
//   Request: {"action": ..., "selector"?: CSS (default ".monaco-list-row"),
//             "webview"?: bool (search inside webview frames), "timeoutMs"?: N (default 10000)}
//     find        {"texts": [..], "screenshot"?: "name.png"}: waits until, for each text, some
//                 visible matching element's text or aria-label contains it (case-sensitive)
//     screenshot  {"screenshot": "name.png"}: full page
//     click-text  {"text": ".."}: clicks the first visible matching element whose text or
//                 aria-label contains it
//     status-bar  {}: texts of the `.statusbar-item` elements
//     screenshot  {"screenshot": "name.png", "element": CSS}: only the first visible element
//                 matching `element` (inside webview frames with "webview": true)
//     canvas-pixels {"selector"?: CSS (default "canvas"), "minPixels"?: N (default 1)}: waits until
//                 some visible matching canvas has at least minPixels drawn pixels (pixels that
//                 differ from the canvas' top-left pixel, its background); answers "canvases":
//                 [{id, width, height, drawn}] for every visible matching canvas
//     fill        {"selector": CSS, "text": "..", "press"?: key}: types the text into the first
//                 visible matching input (replacing its value), then presses the key (e.g. "Enter")
//   Result: {"ok": bool, "found"?: {text: bool}, "rowTexts"?: [texts of all visible matching elements],
//            "screenshot"?: absolute path, "canvases"?: [..], "error"?: string}
//   Screenshots go to test-results/screenshots/ (a failed find saves <id>-failed.png).
//   "revealViewContainer" is done by the suite helper before writing the request.
//   Useful selectors: ".activitybar .action-item .action-label" (aria-label "MLOps"),
//   ".sidebar .title-label" (a one-view container shows "MLOPS: RUNS" there, no pane header),
//   ".pane-header" (views of a container with several), ".monaco-list-row" (tree rows).
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { chromium } from 'playwright-core';
import { codeServerEntry, installTestHost } from '../../scripts/install-test-host.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const suiteDir = join(root, 'out', 'test', 'integration', 'suite');
const workspaceSource = join(root, 'examples', 'quickstart');
const screenshotDir = join(root, 'test-results', 'screenshots');

const STARTUP_TIMEOUT_MS = 180_000; // a 2-core machine can take a while
const DEFAULT_TIMEOUT_MS = 20 * 60_000;
const UI_POLL_MS = 150;
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

// ---------------------------------------------------------------- code-server

/** A free TCP port on 127.0.0.1: `preferred` when it is free, else one the OS picks. */
export async function freePort(preferred = 0) {
  const tryPort = (port) =>
    new Promise((resolvePort, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const { port: chosen } = server.address();
        server.close(() => resolvePort(chosen));
      });
    });
  if (preferred) {
    try {
      return await tryPort(preferred);
    } catch {
      // taken: fall through to any free port
    }
  }
  return tryPort(0);
}

/**
 * Starts code-server in its own process group with every folder it writes under
 * `tmp` (XDG dirs too, else it writes into the home folder). Resolves once it
 * listens; `exited` settles if it stops; `stop()` kills the whole group.
 */
export async function startCodeServer({ tmp, port, env = {}, verbose = false }) {
  writeFileSync(join(tmp, 'config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  writeUserSettings(join(tmp, 'user-data'));
  const args = [
    codeServerEntry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--config', join(tmp, 'config.yaml'),
    '--user-data-dir', join(tmp, 'user-data'), '--extensions-dir', join(tmp, 'extensions'),
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--ignore-last-opened',
  ];
  const child = spawn(process.execPath, args, {
    cwd: tmp,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...cleanEnv(process.env), ...xdgDirs(tmp), ...env },
  });
  const output = [];
  const exited = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  const listening = new Promise((resolveListening) => {
    const onData = (chunk) => {
      const text = chunk.toString();
      output.push(text);
      if (output.length > 200) output.shift();
      if (verbose) process.stdout.write(prefixLines('[code-server] ', text));
      if (output.slice(-2).join('').includes('HTTP server listening on')) resolveListening(); // may span chunks
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  const server = { child, exited, output, stop: () => killGroup(child, exited) };
  killOnExit(child);
  const started = await Promise.race([
    listening.then(() => 'listening'),
    exited.then(({ code, signal }) => `exited (${code ?? signal})`),
    sleep(STARTUP_TIMEOUT_MS).then(() => `did not listen within ${STARTUP_TIMEOUT_MS / 1000} s`),
  ]);
  if (started !== 'listening') {
    await server.stop();
    throw new Error(`code-server ${started}; its output:\n${output.join('').slice(-4000)}`);
  }
  return server;
}

// Quiet, predictable startup: no theme/tips toasts or welcome page over the views under test.
const USER_SETTINGS = {
  'workbench.colorTheme': 'Default Light Modern',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'git.openRepositoryInParentFolders': 'never',
};

function writeUserSettings(userDataDir) {
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
}

/** Variables of an enclosing VS Code (its terminal) would confuse the nested one. */
function cleanEnv(env) {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !/^(VSCODE_|ELECTRON_RUN_AS_NODE)/.test(key)));
}

function xdgDirs(tmp) {
  return { XDG_CONFIG_HOME: join(tmp, 'xdg-config'), XDG_DATA_HOME: join(tmp, 'xdg-data'), XDG_CACHE_HOME: join(tmp, 'xdg-cache') };
}

async function killGroup(child, exited) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child, 'SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!done) signalGroup(child, 'SIGKILL');
}

/** Ctrl-C reaches only our own process group, and Node skips 'exit' handlers on signals. */
function killOnExit(child) {
  process.once('exit', () => killGroupNow(child));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      killGroupNow(child);
      process.exit(130);
    });
  }
}

function killGroupNow(child) {
  if (child.exitCode === null && child.signalCode === null) signalGroup(child, 'SIGKILL');
}

function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal); // negative pid: the whole group (extension host, pty host, ...)
  } catch {
    // already gone
  }
}

/** The workbench URL; code-server's CLI rejects --extensionDevelopmentPath, the URL payload does not. */
export function workbenchUrl({ port, folder, extensionDevelopmentPath, extensionTestsPath }) {
  const remote = (path) => `vscode-remote://127.0.0.1:${port}${path}`;
  const payload = [['extensionDevelopmentPath', remote(extensionDevelopmentPath)]];
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  payload.push(['skipWelcome', 'true']);
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** A throwaway copy of examples/quickstart, so tests never dirty the repository. */
export function copyWorkspace(target) {
  mkdirSync(target, { recursive: true });
  if (!existsSync(workspaceSource)) {
    console.warn(`[integration] ${workspaceSource} is missing: opening an empty folder`);
    return target;
  }
  cpSync(workspaceSource, target, { recursive: true, filter: (src) => basename(src) !== '.mlops' });
  return target;
}

// ---------------------------------------------------------------- the run

async function main() {
  const timeoutMs = Number(argValue('--timeout-ms') ?? process.env.MLOPS_IT_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS);
  const verbose = process.env.MLOPS_IT_VERBOSE === '1';
  if (!existsSync(join(suiteDir, 'index.js'))) {
    throw new Error(`${suiteDir}/index.js is missing: run \`npm run build\` first`);
  }
  installTestHost();
  const tmp = mkdtempSync(join(tmpdir(), 'mlops-it-'));
  process.once('exit', () => rmSync(tmp, { recursive: true, force: true })); // also when interrupted
  const paths = {
    results: join(tmp, 'results.json'),
    uiDir: join(tmp, 'ui'),
    workspace: copyWorkspace(join(tmp, 'workspace', 'quickstart')),
  };
  mkdirSync(paths.uiDir);
  let server;
  let browser;
  try {
    const port = await freePort();
    server = await startCodeServer({
      tmp,
      port,
      verbose,
      env: { MLOPS_TEST_RESULTS: paths.results, MLOPS_TEST_UI_DIR: paths.uiDir, MLOPS_TEST_WORKSPACE: paths.workspace },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      env: { ...process.env, ...xdgDirs(join(tmp, 'browser')) }, // else it writes crash-report folders into the home folder
    });
    const outcome = await runSuite({ browser, server, port, paths, timeoutMs, verbose });
    return report(outcome, paths.results);
  } finally {
    await browser?.close().catch(() => {});
    await server?.stop();
  }
}

/** Opens the workbench and settles when the host reports the end, or on a crash or timeout. */
async function runSuite({ browser, server, port, paths, timeoutMs, verbose }) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
  let finish;
  const finished = new Promise((resolveFinish) => (finish = resolveFinish));
  await page.exposeFunction('codeAutomationLog', (type, args) => printHostLog(type, args, verbose));
  await page.exposeFunction('codeAutomationExit', (code) => finish({ exitCode: code }));
  page.on('crash', () => finish({ error: 'the browser page crashed' }));
  const bridge = startUiBridge(page, paths.uiDir);
  const url = workbenchUrl({ port, folder: paths.workspace, extensionDevelopmentPath: root, extensionTestsPath: suiteDir });
  const timer = setTimeout(() => finish({ error: `timed out after ${timeoutMs / 1000} s` }), timeoutMs);
  try {
    await page.goto(url, { timeout: STARTUP_TIMEOUT_MS });
    return await Promise.race([
      finished,
      server.exited.then(({ code, signal }) => ({ error: `code-server exited early (${code ?? signal})` })),
    ]);
  } catch (error) {
    return { error: `could not open the workbench: ${error.message}` };
  } finally {
    clearTimeout(timer);
    bridge.stop();
  }
}

// The workbench's own plumbing messages share this channel with the extension host's console.
const WORKBENCH_NOISE = /^(Resolving connection token|Resolved connection token|Creating a socket|Updating additional builtin extensions cache|\[Service Worker\])|open-vsx\.org/;

/** `args` are console arguments (mocha passes a format string first). */
function printHostLog(type, args, verbose) {
  const text = format(...(Array.isArray(args) ? args : [args])).replace(/\n$/, '');
  if (!verbose && WORKBENCH_NOISE.test(text)) return;
  if (type === 'error') console.error(text);
  else console.log(text);
}

/** Prints the summary line; returns the process exit code. */
function report(outcome, resultsFile) {
  const results = readResults(resultsFile);
  const passed = results?.passed ?? 0;
  const failed = Math.max(results?.failed ?? 0, outcome.error || outcome.exitCode ? 1 : 0);
  for (const { title, message } of results?.failures ?? []) {
    console.error(`✗ ${title}: ${String(message).split('\n')[0]}`); // the full report is above
  }
  if (outcome.error) console.error(`\nintegration: ${outcome.error}`);
  else if (!results) console.error(`\nintegration: the suite wrote no results (${resultsFile}); host exit code ${outcome.exitCode}`);
  else if (results.passed + results.failed === 0) console.error('\nintegration: zero tests ran');
  else if (outcome.exitCode && !results.failed) console.error(`\nintegration: the host exited with code ${outcome.exitCode}`);
  console.log(`integration: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

function readResults(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- UI bridge

/** Polls the folder for requests and answers them one at a time. */
function startUiBridge(page, dir) {
  const handled = new Set();
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      for (const name of readdirSync(dir).filter((n) => n.endsWith('.request.json') && !handled.has(n)).sort()) {
        handled.add(name);
        const id = name.slice(0, -'.request.json'.length);
        const result = await answer(page, id, join(dir, name));
        writeFileSync(join(dir, `${id}.result.json.tmp`), JSON.stringify(result));
        renameSync(join(dir, `${id}.result.json.tmp`), join(dir, `${id}.result.json`));
      }
    } finally {
      busy = false;
    }
  };
  const interval = setInterval(() => tick().catch((error) => console.error(`[ui-bridge] ${error.message}`)), UI_POLL_MS);
  return { stop: () => clearInterval(interval) };
}

async function answer(page, id, requestFile) {
  try {
    const request = JSON.parse(readFileSync(requestFile, 'utf8'));
    return await perform(page, id, request);
  } catch (error) {
    return { ok: false, error: error.message };
  }
}

async function perform(page, id, request) {
  const timeoutMs = request.timeoutMs ?? 10_000;
  switch (request.action) {
    case 'find':
      return find(page, id, request, timeoutMs);
    case 'screenshot':
      if (request.element) return { ok: true, screenshot: await screenshotElement(page, request, timeoutMs) };
      return { ok: true, screenshot: await screenshot(page, request.screenshot) };
    case 'canvas-pixels':
      return canvasPixels(page, request, timeoutMs);
    case 'fill':
      return fill(page, request, timeoutMs);
    case 'click-text':
      return clickText(page, request, timeoutMs);
    case 'status-bar':
      return { ok: true, rowTexts: await elementTexts(page, '.statusbar-item', false) };
    default:
      return { ok: false, error: `unknown UI action "${request.action}"` };
  }
}

async function find(page, id, request, timeoutMs) {
  const texts = request.texts ?? [];
  const deadline = Date.now() + timeoutMs;
  let rowTexts = [];
  let found = {};
  for (;;) {
    rowTexts = await elementTexts(page, request.selector ?? '.monaco-list-row', request.webview);
    found = Object.fromEntries(texts.map((t) => [t, rowTexts.some((row) => row.includes(t))]));
    const ok = Object.values(found).every(Boolean);
    if (ok || Date.now() >= deadline) {
      const name = request.screenshot ?? (ok ? undefined : `${id}-failed.png`);
      return { ok, found, rowTexts, screenshot: name && (await screenshot(page, name)) };
    }
    await sleep(200);
  }
}

async function clickText(page, request, timeoutMs) {
  const selector = request.selector ?? '.monaco-list-row';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of framesToSearch(page, request.webview)) {
      const elements = frame.locator(selector);
      const index = (await readTexts(elements)).findIndex((text) => text?.includes(request.text));
      if (index >= 0) {
        await elements.nth(index).click({ timeout: Math.max(1000, deadline - Date.now()) });
        return { ok: true, rowTexts: await elementTexts(page, selector, request.webview) };
      }
    }
    if (Date.now() >= deadline) {
      const rowTexts = await elementTexts(page, selector, request.webview);
      return { ok: false, rowTexts, error: `no visible "${selector}" containing "${request.text}"` };
    }
    await sleep(200);
  }
}

/** The first visible element matching `selector` in the frames searched, or undefined. */
async function firstVisible(page, selector, webview) {
  for (const frame of framesToSearch(page, webview)) {
    const elements = frame.locator(selector);
    const visible = await elements.evaluateAll((els) => els.map((e) => e.checkVisibility())).catch(() => []);
    const index = visible.indexOf(true);
    if (index >= 0) return elements.nth(index);
  }
  return undefined;
}

async function screenshotElement(page, request, timeoutMs) {
  if (!request.screenshot) throw new Error('screenshot needs a file name');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const element = await firstVisible(page, request.element, request.webview);
    if (element) {
      mkdirSync(screenshotDir, { recursive: true });
      const file = join(screenshotDir, basename(request.screenshot));
      await element.screenshot({ path: file, timeout: Math.max(1000, deadline - Date.now()) });
      return file;
    }
    if (Date.now() >= deadline) throw new Error(`no visible "${request.element}" to take a screenshot of`);
    await sleep(200);
  }
}

async function canvasPixels(page, request, timeoutMs) {
  const selector = request.selector ?? 'canvas';
  const minPixels = request.minPixels ?? 1;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const canvases = [];
    for (const frame of framesToSearch(page, request.webview)) {
      const found = await frame
        .locator(selector)
        .evaluateAll((elements) =>
          elements
            .filter((c) => c instanceof HTMLCanvasElement && c.checkVisibility() && c.width > 0 && c.height > 0)
            .map((c) => {
              const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
              let drawn = 0;
              for (let i = 0; i < data.length; i += 4) {
                const d = Math.abs(data[i] - data[0]) + Math.abs(data[i + 1] - data[1]) + Math.abs(data[i + 2] - data[2]) + Math.abs(data[i + 3] - data[3]);
                if (d > 24) drawn++;
              }
              return { id: c.id, width: c.width, height: c.height, drawn };
            }),
        )
        .catch(() => []);
      canvases.push(...found);
    }
    const ok = canvases.some((c) => c.drawn >= minPixels);
    if (ok || Date.now() >= deadline) {
      return ok ? { ok, canvases } : { ok, canvases, error: `no visible "${selector}" with at least ${minPixels} drawn pixels` };
    }
    await sleep(200);
  }
}

async function fill(page, request, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const element = await firstVisible(page, request.selector, request.webview);
    if (element) {
      await element.fill(request.text ?? '', { timeout: Math.max(1000, deadline - Date.now()) });
      if (request.press) await element.press(request.press);
      return { ok: true };
    }
    if (Date.now() >= deadline) return { ok: false, error: `no visible "${request.selector}" to type into` };
    await sleep(200);
  }
}

/** Texts of every visible element matching `selector`, in every frame searched. */
async function elementTexts(page, selector, webview) {
  const all = [];
  for (const frame of framesToSearch(page, webview)) {
    all.push(...(await readTexts(frame.locator(selector))).filter((text) => text !== null));
  }
  return all;
}

/**
 * Per element: its text plus aria-label (icons carry only the label), or null
 * when hidden (rows of a collapsed pane stay in the DOM). Indices match `locator.nth`.
 */
function readTexts(locator) {
  return locator
    .evaluateAll((elements) =>
      elements.map((e) =>
        e.checkVisibility()
          ? [e.innerText ?? e.textContent ?? '', e.getAttribute('aria-label') ?? ''].join(' ').replace(/\s+/g, ' ').trim()
          : null,
      ),
    )
    .catch(() => []); // a frame may go away while we read it
}

function framesToSearch(page, webview) {
  return webview ? page.frames().filter((f) => f !== page.mainFrame()) : [page.mainFrame()];
}

async function screenshot(page, name) {
  if (!name) throw new Error('screenshot needs a file name');
  mkdirSync(screenshotDir, { recursive: true });
  const file = join(screenshotDir, basename(name)); // never outside the folder
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// ---------------------------------------------------------------- helpers

function sleep(ms) {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms).unref());
}

function prefixLines(prefix, text) {
  return text.replace(/^(?=.)/gm, prefix);
}

function argValue(name) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`integration: ${error.message}`);
      console.log('integration: 0 passed, 1 failed');
      process.exit(1);
    },
  );
}
