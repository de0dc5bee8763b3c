import { Project } from '../core/project';
import { Tracking, type OpenOptions } from '../core/tracking/tracking';

type Options = Omit<OpenOptions, 'onMessage'>;

/** Read commands (the default) neither wait for the index nor create anything: they read another process's index without a word. */
const TO_READ: Options = { mustExist: true };

/**
 * Commands that must own the index (server, reindex, import) wait this long for another command
 * to let go of it, and create `.mlops/` where there is none.
 */
export const TO_WRITE: Options = { waitMs: 2000 };

/** Commands that change the registry or start runs (models register/alias/delete, reproduce): they create `.mlops/` where there is none, without waiting for the index. */
export const TO_CHANGE: Options = {};

/** The engine's messages (an index rebuilt, a run marked KILLED) go to stderr, so stdout stays the command's output. */
const onMessage = (m: string): void => void process.stderr.write(`mlops: ${m}\n`);

/** Opens the workspace's tracking index for `fn` and closes (saves) it however `fn` ends. */
export function withTracking<T>(root: string, fn: (t: Tracking) => T | Promise<T>, options = TO_READ): Promise<T> {
  return using(Tracking.open(root, { ...options, onMessage }), fn);
}

/** Opens the workspace's engine (tracking, snapshots, registry, audit) for `fn` and closes it however `fn` ends. */
export function withProject<T>(root: string, fn: (p: Project) => T | Promise<T>, options = TO_READ): Promise<T> {
  return using(Project.open(root, { ...options, onMessage }), fn);
}

async function using<E extends { close(): void }, T>(opening: Promise<E>, fn: (opened: E) => T | Promise<T>): Promise<T> {
  const opened = await opening;
  try {
    return await fn(opened);
  } finally {
    opened.close();
  }
}
