// Entry point the extension host loads (extensionTestsPath): runs every compiled
// *.test.js beside this file with mocha, prints the spec report to the console
// (which both runners stream to the terminal) and writes a results file that
// the runner reads, because the host's exit code alone cannot say "zero tests".
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

export interface SuiteFailure {
  title: string;
  message: string;
}

export interface SuiteResults {
  passed: number;
  failed: number;
  pending: number;
  failures: SuiteFailure[];
}

const TEST_TIMEOUT_MS = 60_000;

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, reporter: 'spec', timeout: TEST_TIMEOUT_MS });
  const results: SuiteResults = { passed: 0, failed: 0, pending: 0, failures: [] };
  for (const file of findTestFiles(__dirname)) {
    addFile(mocha, file, results);
  }
  await runMocha(mocha, results);
  reportSummary(results);
  writeResults(results);
  if (results.failed > 0) throw new Error(`${results.failed} integration test(s) failed`);
  if (results.passed === 0) throw new Error('no integration test passed (zero tests found?)');
}

function findTestFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.js'))
    .map((name) => path.join(dir, name))
    .sort();
}

/**
 * Loads one file the way mocha's loadFiles does, but a file that throws while
 * loading becomes one counted failure instead of aborting the whole run.
 */
function addFile(mocha: Mocha, file: string, results: SuiteResults): void {
  const suite = mocha.suite;
  suite.emit('pre-require', globalThis, file, mocha);
  try {
    suite.emit('require', require(file), file, mocha);
  } catch (error) {
    recordFailure(results, `load ${path.basename(file)}`, error);
  }
  suite.emit('post-require', globalThis, file, mocha);
}

function runMocha(mocha: Mocha, results: SuiteResults): Promise<void> {
  return new Promise((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', () => results.passed++);
    runner.on('pending', () => results.pending++);
    runner.on('fail', (test: Mocha.Runnable, error: unknown) => recordFailure(results, test.fullTitle(), error));
  });
}

function recordFailure(results: SuiteResults, title: string, error: unknown): void {
  results.failed++;
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  results.failures.push({ title, message });
}

/** Mocha's spec reporter shows test failures; load failures only appear here. */
function reportSummary(results: SuiteResults): void {
  for (const { title, message } of results.failures.filter((f) => f.title.startsWith('load '))) {
    console.error(`FAILED: ${title}\n${message}`);
  }
  console.log(`suite: ${results.passed} passed, ${results.failed} failed, ${results.pending} pending`);
}

function writeResults(results: SuiteResults): void {
  const target = process.env.MLOPS_TEST_RESULTS;
  if (!target) return;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(`${target}.tmp`, JSON.stringify(results, null, 2));
  fs.renameSync(`${target}.tmp`, target);
}
