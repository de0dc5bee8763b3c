import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './helpers';

/** The bench scripts (bench/ and bench/lib/, but engine.mjs itself) as text, by their path in the repository. */
function benchScripts(): Map<string, string> {
  const scripts = new Map<string, string>();
  for (const dir of ['bench', path.join('bench', 'lib')]) {
    for (const name of fs.readdirSync(path.join(repoRoot, dir))) {
      const file = path.join(dir, name);
      if (/\.(mjs|cjs|js)$/.test(name) && file !== path.join('bench', 'lib', 'engine.mjs')) scripts.set(file, fs.readFileSync(path.join(repoRoot, file), 'utf8'));
    }
  }
  return scripts;
}

/**
 * What a script takes from the engine: `const { a, b: c } = engine('m')` takes a and b from m;
 * `const x = engine('m')` takes every `x.name` the script uses.
 */
function engineUses(text: string): { module: string; names: string[] }[] {
  const uses: { module: string; names: string[] }[] = [];
  for (const [, binding, module] of text.matchAll(/const\s+(\{[^}]*\}|\w+)\s*=\s*engine\(\s*'([^']+)'\s*\)/g)) {
    const names = binding.startsWith('{')
      ? binding.slice(1, -1).split(',').map((p) => p.split(':')[0].trim()).filter(Boolean)
      : [...new Set([...text.matchAll(new RegExp(`\\b${binding}\\.(\\w+)`, 'g'))].map((m) => m[1]))];
    uses.push({ module, names });
  }
  return uses;
}

describe('the bench scripts and the engine they measure (bench/lib/engine.mjs)', () => {
  const scripts = benchScripts();

  it('every name a bench takes from out/ is there: a bench left behind by a change to the engine fails here, not minutes into its run', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const [file, text] of scripts) {
      const uses = engineUses(text);
      // Any other form of call would go unchecked.
      assert.equal(uses.length, [...text.matchAll(/\bengine\(\s*'/g)].length, `${file}: take names from engine('…') as const { … } = engine('…') or const x = engine('…')`);
      for (const { module, names } of uses) {
        let exported: Record<string, unknown>;
        try {
          exported = require(path.join(repoRoot, 'out', module)) as Record<string, unknown>;
        } catch (err) {
          problems.push(`${file}: engine('${module}'): ${(err as Error).message.split('\n')[0]}`);
          continue;
        }
        for (const name of names) {
          checked++;
          if (!(name in exported)) problems.push(`${file}: out/${module} has no ${name}`);
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked >= 40, `only ${checked} names were found: the pattern above no longer matches the benches`);
  });

  it('no bench loads from out/ but through engine()', () => {
    const bypassing: string[] = [];
    for (const [file, text] of scripts) {
      text.split('\n').forEach((line, i) => {
        // activateChild.cjs, CommonJS, defines its own engine() (it cannot import engine.mjs).
        if (/['"`]out['"`/]/.test(line) && !/^const engine = /.test(line)) bypassing.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(bypassing, []);
  });
});
