// The worker thread of sqlite.ts's loadSqlJsWarm: V8 compiles each WebAssembly function on
// its first call, on the calling thread. Statements of every kind the index runs are run here
// once, on the module the main thread compiled; the code this compiles is shared with it.
import { parentPort, workerData } from 'node:worker_threads';
import initSqlJs from 'sql.js';
import { instantiateFrom } from './sqlite';
import { SCHEMA_SQL } from './store';

async function warmUp(): Promise<void> {
  const SQL = await initSqlJs({ instantiateWasm: instantiateFrom(workerData.module) });
  const db = new SQL.Database();
  db.exec(SCHEMA_SQL);
  db.exec('BEGIN');
  db.run("INSERT INTO runs (id, name, experiment_id, status, source, start_time, capture) VALUES ('r', 'n', 0, 'RUNNING', 'script', 1, ?)", ['{"host":"h","pid":1}']);
  db.run("INSERT INTO metrics VALUES ('r', 'loss', 0, 0.5, 1, 1, 0.5, 0.5, 1, 'f') ON CONFLICT (run_id, key) DO UPDATE SET count = count + 1");
  db.run("INSERT OR REPLACE INTO params VALUES ('r', 'lr', '0.1')");
  db.run("UPDATE runs SET log_offset = 10 WHERE id = 'r'");
  db.exec('COMMIT');
  const stmt = db.prepare(
    `SELECT r.id, e.name, COUNT(m.key), json_extract(r.capture, '$.pid') FROM runs r JOIN experiments e ON e.id = r.experiment_id
     LEFT JOIN metrics m ON m.run_id = r.id WHERE r.id IN (?, ?) GROUP BY r.id ORDER BY r.start_time DESC, r.id`,
    ['r', 's'],
  );
  while (stmt.step()) stmt.getAsObject();
  stmt.free();
  db.exec("PRAGMA quick_check; SELECT value FROM meta WHERE key = 'schema'; DELETE FROM params WHERE run_id = 'x'");
  db.export();
  db.close();
}

warmUp().then(
  () => parentPort?.postMessage('done'),
  (err: Error) => parentPort?.postMessage(`failed: ${err.message}`),
);
