import type { ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';

/**
 * A command's stdout as lines, kept until someone reads them: a connection can change hands
 * (the one that started a job goes on to stream it) without a line being lost between readers.
 */
export class LineFeed {
  /** Settles when the command has ended (or could not start) and every line was handed out. */
  readonly closed: Promise<void>;
  private readonly queue: string[] = [];
  private reader: ((line: string) => void) | undefined;

  constructor(readonly child: ChildProcess) {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => (this.reader ? this.reader(line) : this.queue.push(line)));
    this.closed = new Promise((resolve) => {
      child.on('error', () => resolve());
      child.on('close', () => resolve());
    });
  }

  /** Hands the lines so far, then each new one, to `reader` (replacing the one before). */
  read(reader: (line: string) => void): void {
    this.reader = reader;
    for (const line of this.queue.splice(0)) reader(line);
  }
}
