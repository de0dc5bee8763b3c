import { Project } from '../core/project';
import { Tracking, type OpenOptions } from '../core/tracking/tracking';

/** A command waits this long for another process (VS Code, another mlops) to let go of the index before reading it read-only. */
const WAIT = { waitMs: 2000 };

/** The engine's messages (an index rebuilt, a run marked KILLED) go to stderr, so stdout stays the command's output. */
const onMessage = (m: string): void => void process.stderr.write(`mlops: ${m}\n`);

/** Opens the workspace's tracking index for `fn` and closes (saves) it however `fn` ends. */
export async function withTracking<T>(root: string, fn: (t: Tracking) => T | Promise<T>, options: Omit<OpenOptions, 'onMessage'> = WAIT): Promise<T> {
  const tracking = await Tracking.open(root, { ...options, onMessage });
  try {
    return await fn(tracking);
  } finally {
    tracking.close();
  }
}

/** Opens the workspace's engine (tracking, snapshots, registry, audit) for `fn` and closes it however `fn` ends. */
export async function withProject<T>(root: string, fn: (p: Project) => T | Promise<T>, options: Omit<OpenOptions, 'onMessage'> = WAIT): Promise<T> {
  const project = await Project.open(root, { ...options, onMessage });
  try {
    return await fn(project);
  } finally {
    project.close();
  }
}
