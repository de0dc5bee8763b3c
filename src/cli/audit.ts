import { AuditLog } from '../core/governance/audit';
import { MlopsLayout } from '../core/workspace/layout';
import { print, printError } from './output';
import { refuseArguments } from './usage';

/** `mlops audit verify`: 0 when the trail is intact, 1 naming the first bad entry. */
export function auditVerifyCommand(root: string, argv: string[]): number {
  refuseArguments('audit verify', argv);
  const verdict = new AuditLog(new MlopsLayout(root)).verify();
  if (verdict.ok) {
    print(`Audit trail intact: ${verdict.count} entries.\n`);
    return 0;
  }
  printError(`Audit trail broken: ${verdict.message}\n`);
  return 1;
}
