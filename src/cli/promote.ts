import { parseArgs } from 'node:util';
import type { Project } from '../core/project';
import { GateError } from '../core/validation/modelValidation';
import { EVALUATE_OPTIONS, evaluateRequest, printGateTable, versionArgs } from './evaluate';
import { print, printError, printJson } from './output';

/** `mlops models promote <model> <version> [--to champion] [--force --reason …]`: moves the alias only through the gates. */
export async function promoteCommand(project: Project, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, options: { ...EVALUATE_OPTIONS, to: { type: 'string' }, force: { type: 'boolean' }, reason: { type: 'string' } }, allowPositionals: true,
  });
  const [name, ref] = versionArgs(positionals);
  const alias = values.to ?? 'champion';
  try {
    const { report, forced } = await project.validation.promote(name, ref, alias, { force: values.force, reason: values.reason, request: evaluateRequest(values) });
    if (values.json) printJson({ ...report, promoted: true, forced });
    else {
      printGateTable(report);
      print(`${name}@${alias} → version ${report.version}${forced ? ' (forced past failed gates; the reason is in the audit trail)' : ''}.\n`);
    }
    return 0;
  } catch (err) {
    if (!(err instanceof GateError)) throw err;
    if (values.json) printJson({ ...err.report, promoted: false });
    else printGateTable(err.report);
    printError(`mlops: ${err.message}\n`);
    return 1;
  }
}
