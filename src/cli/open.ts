import * as fs from 'node:fs';
import { Project } from '../core/project';
import { Tracking, type OpenOptions } from '../core/tracking/tracking';
import { MlopsLayout } from '../core/workspace/layout';
import { printError } from './output';
import { isUsageError } from './usage';

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
const onMessage = (m: string): void => void printError(`mlops: ${m}\n`);

/** Opens the workspace's tracking index for `fn` and closes (saves) it however `fn` ends. */
export function withTracking<T>(root: string, fn: (t: Tracking) => T | Promise<T>, options = TO_READ): Promise<T> {
  return using(root, () => Tracking.open(root, { ...options, onMessage }), fn);
}

/** Opens the workspace's engine (tracking, snapshots, registry, audit) for `fn` and closes it however `fn` ends. */
export function withProject<T>(root: string, fn: (p: Project) => T | Promise<T>, options = TO_READ): Promise<T> {
  return using(root, () => Project.open(root, { ...options, onMessage }), fn);
}

/**
 * Opens, runs `fn` and closes. Commands read their arguments once the workspace is open, so a
 * mistyped command in a folder that had no `.mlops/` would leave one behind: a usage error
 * removes the `.mlops/` this open made.
 */
async function using<E extends { close(): void }, T>(root: string, open: () => Promise<E>, fn: (opened: E) => T | Promise<T>): Promise<T> {
  const { dir } = new MlopsLayout(root);
  const made = !fs.existsSync(dir);
  const opened = await open();
  let mistyped = false;
  try {
    return await fn(opened);
  } catch (err) {
    mistyped = made && isUsageError(err);
    throw err;
  } finally {
    opened.close();
    if (mistyped) fs.rmSync(dir, { recursive: true, force: true });
  }
}
