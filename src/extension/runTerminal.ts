import * as vscode from 'vscode';
import type { TrackedProcess } from '../core/tracking/launcher';

/**
 * A terminal that shows a tracked run's output live. Closing it while the run
 * is active stops the run, as closing any terminal ends what runs in it.
 */
export function showRunTerminal(name: string): { terminal: vscode.Terminal; write: (text: string) => void; attach: (run: TrackedProcess) => void } {
  const writer = new vscode.EventEmitter<string>();
  let run: TrackedProcess | undefined;
  let ended = false;
  let buffered = '';
  let opened = false;
  const write = (text: string): void => {
    const crlf = text.replace(/\r?\n/g, '\r\n');
    if (opened) writer.fire(crlf);
    else buffered += crlf;
  };
  const pty: vscode.Pseudoterminal = {
    onDidWrite: writer.event,
    open: () => {
      opened = true;
      if (buffered) writer.fire(buffered);
      buffered = '';
    },
    close: () => {
      if (run && !ended) void run.stop();
      writer.dispose();
    },
  };
  const terminal = vscode.window.createTerminal({ name: `MLOps: ${name}`, pty, iconPath: new vscode.ThemeIcon('beaker') });
  terminal.show(true);
  return {
    terminal,
    write,
    attach: (r) => {
      run = r;
      void r.finished.then((outcome) => {
        ended = true;
        const code = outcome.exitCode === null ? '' : `, exit code ${outcome.exitCode}`;
        write(`\n[MLOps] run ${outcome.status}${code}\n`);
      }, (err: Error) => {
        ended = true;
        write(`\n[MLOps] ${err.message}\n`);
      });
    },
  };
}
