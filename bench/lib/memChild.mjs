// Child process for the memory figure, started with `node --expose-gc` so the
// numbers belong to nothing but the store under test. Driven over IPC by
// bench/tracking.mjs: each 'step' message reads what is new, then forces GC and
// reports memory.
//   mode "tracking": Tracking.open(root) on the first step, then refresh() + save()
//                    (what the extension host does as runs are added).
//   mode "naive":    reads the given runs' logs with JSON.parse and keeps every point
//                    in per-(run, key) JS number arrays (steps[], times[], values[]).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { engine } from './engine.mjs';

const [mode, root] = process.argv.slice(2);

async function fullGc() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
  }
}

function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, maxRss: process.resourceUsage().maxRSS * 1024 };
}

let tracking;
const naive = new Map();

function loadNaive(ids) {
  let points = 0;
  for (const id of ids) {
    const text = fs.readFileSync(path.join(root, '.mlops', 'runs', id, 'events.jsonl'), 'utf8');
    let byKey = naive.get(id);
    if (!byKey) naive.set(id, (byKey = new Map()));
    for (const line of text.split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line);
      if (e.type !== 'metric') continue;
      let h = byKey.get(e.key);
      if (!h) byKey.set(e.key, (h = { steps: [], times: [], values: [] }));
      h.steps.push(e.step ?? 0);
      h.times.push(e.time);
      h.values.push(typeof e.value === 'number' ? e.value : Number(e.value));
      points++;
    }
  }
  return points;
}

process.on('message', async (msg) => {
  try {
    if (msg.op === 'step') {
      const t = performance.now();
      if (mode === 'tracking') {
        if (!tracking) {
          const { Tracking } = engine('src/core/tracking/tracking.js');
          tracking = await Tracking.open(root, {});
        } else {
          tracking.refresh();
          tracking.save();
        }
      } else {
        loadNaive(msg.ids);
      }
      const ms = performance.now() - t;
      await fullGc();
      process.send({ ok: true, ms, ...memory() });
    } else if (msg.op === 'close') {
      tracking?.close();
      process.send({ ok: true }, () => process.exit(0));
    }
  } catch (err) {
    process.send({ ok: false, error: String(err?.stack ?? err) });
  }
});
await fullGc();
process.send({ ready: true, ...memory() });
