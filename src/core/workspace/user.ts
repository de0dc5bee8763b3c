import * as os from 'node:os';

/** The OS user name recorded with runs, versions, snapshots and audit entries; falls back to $USER / $USERNAME. */
export function currentUser(): string {
  try {
    const name = os.userInfo().username;
    if (name) return name;
  } catch {
    // no passwd entry (some containers)
  }
  return process.env.USER || process.env.USERNAME || 'unknown';
}
