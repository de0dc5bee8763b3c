import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

let sqlPromise: Promise<SqlJsStatic> | undefined;

/** Beside the bundle in dist/, or beside this module in out/ (tests). */
const WARMUP_WORKER = path.join(__dirname, 'sqliteWarmup.js');

/** Finds sql-wasm.wasm: beside the bundle in dist/, else in node_modules above (tests run from out/). */
function locateWasm(): string {
  const beside = path.join(__dirname, 'sql-wasm.wasm');
  if (fs.existsSync(beside)) return beside;
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', 'sql.js', 'dist', 'sql-wasm.wasm');
    if (fs.existsSync(candidate)) return candidate;
  }
  return beside;
}

/** Loads sql.js once per process. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  sqlPromise ??= initSqlJs({ locateFile: () => locateWasm() });
  return sqlPromise;
}

/**
 * Loads sql.js for a process whose thread must stay responsive (the extension host), when
 * called before anything else loads it. V8 compiles a WebAssembly function on its first call,
 * on the calling thread: the first queries of a fresh process block it for 100s of ms. Here
 * the module is compiled asynchronously, and a worker thread runs the index's kinds of
 * statements on it first (sqliteWarmup.ts); the code that compiles is shared with this thread.
 */
export function loadSqlJsWarm(): Promise<SqlJsStatic> {
  sqlPromise ??= (async () => {
    const module = await wasmApi().compile(await fs.promises.readFile(locateWasm()));
    await warmUp(module);
    return initSqlJs({ instantiateWasm: instantiateFrom(module) });
  })();
  return sqlPromise;
}

/** Warms up in the worker; a missing or failing worker only means the first queries compile here. */
function warmUp(module: object): Promise<void> {
  if (!fs.existsSync(WARMUP_WORKER)) return Promise.resolve();
  return new Promise((resolve) => {
    const worker = new Worker(WARMUP_WORKER, { workerData: { module } });
    const done = (): void => {
      void worker.terminate();
      resolve();
    };
    worker.once('message', done);
    worker.once('error', done);
    worker.once('exit', done);
  });
}

interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}

/** The global WebAssembly object (the TypeScript libs here do not describe it). */
function wasmApi(): WasmApi {
  return (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
}

/** sql.js's hook for instantiating an already compiled module. */
export function instantiateFrom(module: object): (imports: object, done: (instance: never) => void) => undefined {
  return (imports, done) => {
    void wasmApi().instantiate(module, imports).then((instance) => done(instance as never));
    return undefined;
  };
}
