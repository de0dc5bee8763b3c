import { randomBytes } from 'node:crypto';

/** A fresh secret for a deployment's /admin routes (its own file: whoever starts a server needs this, not the server). */
export function newAdminToken(): string {
  return randomBytes(24).toString('hex');
}
