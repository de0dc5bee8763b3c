import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { PipelineError } from './load';
import type { Stage } from './stages';

/**
 * The values of a stage's params as JSON text, keyed as written (`train.lr`,
 * `params.yaml:epochs`): a dotted key walks into mappings. A missing file or key is a
 * PipelineError naming the stage and the line.
 */
export function paramValues(root: string, stage: Stage, files = new Map<string, unknown>()): Record<string, string> {
  const out: Record<string, string> = {};
  stage.params.forEach((p, i) => {
    const line = stage.lines.params[i] ?? stage.line;
    const fail = (why: string): never => {
      throw new PipelineError(path.join(root, 'mlops.yaml'), [{ message: `Stage "${stage.name}" reads param "${p.text}", but ${why}`, line, stage: stage.name }]);
    };
    if (!files.has(p.file)) {
      let text: string;
      try {
        text = fs.readFileSync(path.join(root, ...p.file.split('/')), 'utf8');
      } catch {
        return fail(`${p.file} cannot be read. Create it or fix the name.`);
      }
      try {
        files.set(p.file, parse(text));
      } catch (err) {
        return fail(`${p.file} is not valid YAML or JSON (${(err as Error).message.split('\n')[0]}).`);
      }
    }
    let value: unknown = files.get(p.file);
    for (const part of p.key.split('.')) {
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return fail(`${p.file} has no "${p.key}". Add it, or fix the name.`);
      value = (value as Record<string, unknown>)[part];
    }
    out[p.text] = JSON.stringify(value);
  });
  return out;
}
