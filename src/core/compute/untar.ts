import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';

/** A local tar unpacking the archive written to `input` into a folder. */
export interface Untar {
  child: ChildProcess;
  input: Writable;
  /** Whether tar unpacked the whole archive (exit 0). */
  done: Promise<boolean>;
}

/**
 * Starts `tar -xf - -C dir`. Its end is listened for from the start: GNU tar exits as soon as it
 * reads the archive's end, before its input is closed, so a listener added once the last bytes
 * are written may come after the process has already closed, and wait for ever.
 */
export function untar(dir: string): Untar {
  const child = spawn('tar', ['-xf', '-', '-C', dir], { stdio: ['pipe', 'ignore', 'ignore'] });
  const done = new Promise<boolean>((resolve) => {
    child.on('close', (code) => resolve(code === 0));
    child.on('error', () => resolve(false));
  });
  // Bytes written after tar has left (the archive's padding, a cut-off stream): nothing to tell.
  child.stdin!.on('error', () => undefined);
  return { child, input: child.stdin!, done };
}
