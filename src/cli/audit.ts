import { AuditLog } from '../core/governance/audit';
import { MlopsLayout } from '../core/workspace/layout';

/** `mlops audit verify`: 0 when the trail is intact, 1 naming the first bad entry. */
export function auditVerifyCommand(root: string): number {
  const verdict = new AuditLog(new MlopsLayout(root)).verify();
  if (verdict.ok) {
    process.stdout.write(`Audit trail intact: ${verdict.count} entries.\n`);
    return 0;
  }
  process.stderr.write(`Audit trail broken: ${verdict.message}\n`);
  return 1;
}
