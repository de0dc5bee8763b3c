// `npm test`: builds, then runs the test layers in order and sums them:
//   arrows       dependency-cruiser over src/ and webview/ with .dependency-cruiser.cjs:
//                one check per rule (no circles, core below the front ends, …)
//   unit         node --test over out/test/unit/**/*.test.js
//   python       python3 -m unittest discover -s python/tests -v
//   integration  test/integration/run-code-server.mjs (a real VS Code host)
// `node scripts/test.mjs <layer>` runs one layer. The last line is always
// `N passed, N failed`; the exit code is 1 on any failure, a layer that crashes
// or times out, or zero tests in total.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MINUTE = 60_000;
const LAYERS = { arrows: arrowsLayer, unit: unitLayer, python: pythonLayer, integration: integrationLayer };

async function main() {
  const only = process.argv[2];
  if (only && !LAYERS[only]) {
    console.error(`unknown layer "${only}"; use one of: ${Object.keys(LAYERS).join(', ')}`);
    return 2;
  }
  const build = await run('npm', ['run', 'build'], { timeoutMs: 5 * MINUTE });
  if (build.code !== 0) {
    console.error(`\nbuild failed (${build.reason})`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  const total = { passed: 0, failed: 0 };
  for (const [name, layer] of Object.entries(LAYERS)) {
    if (only && name !== only) continue;
    console.log(`\n=== ${name} ===`);
    const { passed, failed } = await layer();
    total.passed += passed;
    total.failed += failed;
  }
  if (total.passed + total.failed === 0) console.error('\nno tests ran');
  console.log(`\n${total.passed} passed, ${total.failed} failed`);
  return total.failed === 0 && total.passed > 0 ? 0 : 1;
}

// ---------------------------------------------------------------- layers

/** Each rule of .dependency-cruiser.cjs is one check: passed when no import breaks it. */
async function arrowsLayer() {
  const config = join(root, '.dependency-cruiser.cjs');
  const rules = createRequire(import.meta.url)(config).forbidden.map((rule) => rule.name);
  const cli = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  if (!existsSync(cli)) return layerResult('arrows', 0, 1, 'dependency-cruiser is not installed: run npm install');
  const result = await run(process.execPath, [cli, 'src', 'webview', '--config', config, '--output-type', 'err'], { timeoutMs: 5 * MINUTE, capture: true });
  const broken = new Set([...result.output.matchAll(/^\s*(?:error|warn) ([\w-]+):/gm)].map((m) => m[1]));
  for (const rule of rules) console.log(`${broken.has(rule) ? 'not ok' : 'ok'} - ${rule}`);
  const failed = rules.filter((rule) => broken.has(rule)).length;
  return settle('arrows', { passed: rules.length - failed, failed }, result);
}

async function unitLayer() {
  const dir = join(root, 'out', 'test', 'unit');
  const files = existsSync(dir) ? findFiles(dir, (name) => name.endsWith('.test.js')) : [];
  if (files.length === 0) return layerResult('unit', 0, 0, 'no compiled unit tests');
  // Spec output live for people, TAP to a file for counting.
  const tmp = mkdtempSync(join(tmpdir(), 'mlops-unit-'));
  const tap = join(tmp, 'unit.tap');
  try {
    const args = ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files];
    const result = await run(process.execPath, args, { timeoutMs: 10 * MINUTE });
    const counts = parseTap(existsSync(tap) ? readFileSync(tap, 'utf8') : '');
    return settle('unit', counts, result);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function pythonLayer() {
  const dir = join(root, 'python', 'tests');
  if (!existsSync(dir) || findFiles(dir, (name) => /^test.*\.py$/.test(name)).length === 0) {
    return layerResult('python', 0, 0, 'no python/tests');
  }
  const env = { ...process.env, PYTHONPATH: [join(root, 'python'), process.env.PYTHONPATH].filter(Boolean).join(':') };
  const result = await run('python3', ['-m', 'unittest', 'discover', '-s', 'python/tests', '-v'], { timeoutMs: 10 * MINUTE, env, capture: true });
  return settle('python', parseUnittest(result.output), result);
}

async function integrationLayer() {
  const runnerLimit = Number(process.env.MLOPS_IT_TIMEOUT_MS ?? 10 * MINUTE);
  const result = await run(process.execPath, [join(root, 'test', 'integration', 'run-code-server.mjs')], {
    timeoutMs: runnerLimit + 5 * MINUTE, // the runner enforces its own limit; this is the backstop (plus a first install)
    capture: true,
  });
  const match = [...result.output.matchAll(/^integration: (\d+) passed, (\d+) failed$/gm)].pop();
  const counts = match ? { passed: Number(match[1]), failed: Number(match[2]) } : { passed: 0, failed: 0 };
  return settle('integration', counts, result, { printed: Boolean(match) });
}

/** A layer that exits non-zero, times out or counts nothing it ran still counts as a failure. */
function settle(name, counts, result, { printed = false } = {}) {
  let { passed, failed } = counts;
  if (result.code !== 0 && failed === 0) {
    failed = 1;
    console.error(`${name}: ${result.reason}`);
  }
  if (printed && failed === counts.failed) return { passed, failed };
  return layerResult(name, passed, failed);
}

function layerResult(name, passed, failed, note) {
  console.log(`${name}: ${passed} passed, ${failed} failed${note ? ` (${note})` : ''}`);
  return { passed, failed };
}

// ---------------------------------------------------------------- parsing

/** Node's TAP reporter ends with `# pass N`, `# fail N`, `# cancelled N`. */
function parseTap(text) {
  const count = (key) => Number(text.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  return { passed: count('pass'), failed: count('fail') + count('cancelled') };
}

/** unittest's summary: `Ran N tests` then `OK (skipped=s)` or `FAILED (failures=a, errors=b)`. */
function parseUnittest(text) {
  const ran = Number(text.match(/^Ran (\d+) tests?/m)?.[1] ?? 0);
  const status = text.match(/^(OK|FAILED)(?: \((.*)\))?$/m);
  const detail = Object.fromEntries(
    (status?.[2] ?? '').split(', ').filter(Boolean).map((pair) => {
      const [key, value] = pair.split('=');
      return [key, Number(value)];
    }),
  );
  const failed = (detail.failures ?? 0) + (detail.errors ?? 0) + (detail['unexpected successes'] ?? 0);
  const notRun = (detail.skipped ?? 0) + (detail['expected failures'] ?? 0);
  return { passed: Math.max(0, ran - failed - notRun), failed };
}

// ---------------------------------------------------------------- processes

const running = new Set();
let interrupted = false;

/**
 * Runs a command in its own process group with output shown live (and kept when
 * `capture`), killing the whole group on timeout or when we are interrupted.
 */
function run(command, args, { timeoutMs, env = process.env, capture = false }) {
  if (interrupted) return Promise.resolve({ code: 1, reason: 'interrupted', output: '' });
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let output = '';
    const relay = (stream) => (chunk) => {
      stream.write(chunk);
      if (capture) output += chunk;
    };
    child.stdout.on('data', relay(process.stdout));
    child.stderr.on('data', relay(process.stderr));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stopGroup(child);
    }, timeoutMs);
    const finish = (code, reason) => {
      clearTimeout(timer);
      running.delete(child);
      resolveRun({ code, reason, output });
    };
    child.once('error', (error) => finish(1, `could not start ${command}: ${error.message}`));
    child.once('close', (code, signal) => {
      if (timedOut) finish(1, `timed out after ${timeoutMs / 1000} s`);
      else finish(code ?? 1, code === null ? `killed by ${signal}` : `exited with code ${code}`);
    });
  });
}

/** SIGTERM first so the integration runner can kill its code-server; SIGKILL if it lingers. */
function stopGroup(child) {
  signalGroup(child, 'SIGTERM');
  setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000).unref();
}

function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true;
    for (const child of running) stopGroup(child);
    setTimeout(() => process.exit(130), 2000);
  });
}

function findFiles(dir, accept) {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => accept(name.split('/').pop()))
    .map((name) => join(dir, name))
    .sort();
}

main().then((code) => process.exit(code));
