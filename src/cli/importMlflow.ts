import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { importMlruns, MlflowBackend } from '../core/mlflow';
import { TO_WRITE, withTracking } from './open';
import { print, printError, printJson, printProgress } from './output';
import { wrongArguments } from './usage';

/** `mlops import-mlflow <mlruns-dir> [--json]`: imports an MLflow file store; runs already imported are skipped. */
export async function importMlflowCommand(root: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw wrongArguments('import-mlflow needs the mlruns folder.');
  const source = path.resolve(positionals[0]);
  return withTracking(root, async (tracking) => {
    if (tracking.readOnly) {
      throw new Error('Another process owns this workspace\'s tracking index. With VS Code open, use "MLOps: Import MLflow Runs…" there; otherwise close the other process and try again.');
    }
    const backend = new MlflowBackend(tracking);
    const interactive = process.stderr.isTTY && !values.json;
    const result = await importMlruns(tracking, backend.experiments, source, {
      onProgress: (p) => {
        if (interactive && p.total) printProgress(`mlops: importing ${p.done}/${p.total} runs…`);
      },
    });
    if (interactive) printError('\n');
    for (const w of result.warnings) printError(`mlops: ${w}\n`);
    if (values.json) {
      printJson({ source, experiments_created: result.experiments, imported: result.imported, skipped: result.skipped, warnings: result.warnings });
    } else {
      print(`Imported ${result.imported.length} run${result.imported.length === 1 ? '' : 's'} from ${source}`
        + `${result.skipped.length ? ` (${result.skipped.length} already imported, skipped)` : ''}`
        + `${result.experiments ? `; created ${result.experiments} experiment${result.experiments === 1 ? '' : 's'}` : ''}.\n`);
    }
    return 0;
  }, TO_WRITE);
}
