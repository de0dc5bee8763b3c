// How the benches load the engine: the compiled CommonJS that tsc writes to out/ (`npm run build`).
// test/unit/benchScripts.test.ts reads every engine() call in bench/ and checks the names taken
// from it against out/, so a bench left behind by a change to the engine fails the tests, not
// its next run minutes in.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

/** A compiled module by its path under out/: `engine('src/core/serving/oip.js')`. */
export function engine(module) {
  return require(path.join(repo, 'out', module));
}

/**
 * Runs `npm run build` first when `--build` is given or a file the bench needs is missing: modules
 * under out/ (as engine() names them) and bundles under dist/. A failed build ends the bench with
 * no figures.
 */
export function ensureBuilt(modules, bundles = []) {
  const missing = () => [...modules.map((m) => path.join('out', m)), ...bundles.map((b) => path.join('dist', b))].filter((f) => !fs.existsSync(path.join(repo, f)));
  if (!process.argv.includes('--build') && !missing().length) return;
  console.log(`${missing().join(', ') || 'nothing'} missing (or --build): running \`npm run build\` first…`);
  const r = spawnSync('npm', ['run', 'build'], { cwd: repo, stdio: 'inherit' });
  if (r.status !== 0 || missing().length) {
    console.log('build failed; no figures measured.');
    process.exit(0);
  }
}
