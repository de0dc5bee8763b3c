import * as vscode from 'vscode';
import type { RemoteRun } from '../../core/compute/remoteRun';
import type { RunOutcome } from '../../core/tracking/launcher';

/**
 * A run a terminal follows: `stop` is what closing the terminal does (a local run ends; a run on
 * a target is let go of, and goes on there).
 */
export interface FollowedRun {
  finished: Promise<RunOutcome>;
  stop(): Promise<unknown>;
}

/** A terminal that shows tracked runs' output live. */
export interface RunTerminal {
  terminal: vscode.Terminal;
  write(text: string): void;
  /** Follows `run`: says how it ended, then frees the terminal for the next run of the same script. */
  attach(run: FollowedRun): void;
  /** Says the last line and frees the terminal (for work that follows no single run). */
  done(line: string): void;
}

interface Entry extends RunTerminal {
  busy: boolean;
}

/** One terminal per script (key), reused while no run is active in it. */
const terminals = new Map<string, Entry>();

/**
 * The terminal of `key` (a script's path; default the title), shown and ready for a
 * new run: reused when its last run ended, a new one when a run is still active
 * there. Closing it while a run is active stops the run (FollowedRun.stop), as closing
 * any terminal ends what runs in it.
 */
export function showRunTerminal(name: string, key = name): RunTerminal {
  const idle = terminals.get(key);
  if (idle && !idle.busy) {
    idle.busy = true;
    idle.write(`\n${'─'.repeat(40)}\n`);
    idle.terminal.show(true);
    return idle;
  }
  const entry = createRunTerminal(name, () => {
    if (terminals.get(key) === entry) terminals.delete(key);
  });
  if (!idle) terminals.set(key, entry); // a second terminal while the first is busy is not reused
  entry.terminal.show(true);
  return entry;
}

function createRunTerminal(name: string, onClose: () => void): Entry {
  const writer = new vscode.EventEmitter<string>();
  let run: FollowedRun | undefined;
  let buffered = '';
  let opened = false;
  const pty: vscode.Pseudoterminal = {
    onDidWrite: writer.event,
    open: () => {
      opened = true;
      if (buffered) writer.fire(buffered);
      buffered = '';
    },
    close: () => {
      if (run && entry.busy) void run.stop();
      onClose();
      writer.dispose();
    },
  };
  const entry: Entry = {
    busy: true,
    terminal: vscode.window.createTerminal({ name: `MLOps: ${name}`, pty, iconPath: new vscode.ThemeIcon('beaker') }),
    write: (text) => {
      const crlf = text.replace(/\r?\n/g, '\r\n');
      if (opened) writer.fire(crlf);
      else buffered += crlf;
    },
    attach: (r) => {
      run = r;
      void r.finished.then((outcome) => {
        const code = outcome.exitCode === null ? '' : `, exit code ${outcome.exitCode}`;
        entry.done(`run ${outcome.status}${code}`);
      }, (err: Error) => {
        entry.done(err.message);
      });
    },
    done: (line) => {
      entry.write(`\n[MLOps] ${line}\n`);
      entry.busy = false;
    },
  };
  return entry;
}

/** What a run shipped to a target is shown as: `file`'s terminal for that target (`key`: the file's path), and its first line. */
export interface ShippedRun { target: string; file: string; key: string; line: string }

/**
 * Ships a run to a target (`start`, given where its output goes) under a progress notification,
 * then follows it in the file's terminal for that target; a start that fails says why there too.
 * Closing the terminal lets go of the run, which goes on on its target.
 */
export async function shipToTarget<T>(shown: ShippedRun, start: (onOutput: (text: string) => void) => Promise<T>, runOf: (started: T) => Pick<RemoteRun, 'finished' | 'detach'>): Promise<T> {
  const term = showRunTerminal(`${shown.file.replace(/\.(py|ipynb)$/i, '')} @ ${shown.target}`, `${shown.key}@${shown.target}`);
  term.write(`[MLOps] ${shown.line}\n`);
  let started: T;
  try {
    started = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: shipping ${shown.file} to ${shown.target}…` }, () => start(term.write));
  } catch (err) {
    term.done(`not started: ${(err as Error).message}`);
    throw err;
  }
  const run = runOf(started);
  term.attach({ finished: run.finished, stop: () => run.detach() });
  return started;
}
