import * as path from 'node:path';
import * as vscode from 'vscode';
import { hasOption, joinArguments, optionName, scriptOptions, splitArguments, withOptions, type ScriptOption } from '../../core/tracking/scriptArguments';

/**
 * Asks for the arguments of `script` (run by `python`; none: a command that is not
 * a Python script), `start` filled in. When the script declares argparse options,
 * they are offered first as a pick list (those already in `start` ticked; a newly
 * ticked one arrives with its default). Undefined when cancelled.
 */
export async function promptScriptArguments(script: string, start: string[], python?: string, cwd = path.dirname(script)): Promise<string[] | undefined> {
  const name = path.basename(script);
  const options = python
    ? await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Reading the options of ${name}` }, () => scriptOptions(python, script, cwd))
    : [];
  let args = start;
  if (options.length) {
    const picked = await pickOptions(name, options, start);
    if (!picked) return undefined;
    args = withOptions(start, options, picked);
  }
  const typed = await vscode.window.showInputBox({
    title: `Run ${name} with Arguments`,
    prompt: `Arguments for ${name}, as in a shell (quote values with spaces)`,
    value: joinArguments(args),
    placeHolder: '--lr 0.01 --epochs 10',
    validateInput: (v) => {
      try {
        splitArguments(v);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  });
  return typed === undefined ? undefined : splitArguments(typed);
}

async function pickOptions(name: string, options: ScriptOption[], start: string[]): Promise<ScriptOption[] | undefined> {
  const items = options.map((option) => ({
    label: optionName(option),
    description: [option.metavar, option.default !== undefined ? `default ${option.default}` : ''].filter(Boolean).join(' · '),
    detail: option.help || undefined,
    picked: hasOption(start, option),
    option,
  }));
  const chosen = await vscode.window.showQuickPick(items, {
    title: `Options of ${name} (from its --help)`,
    placeHolder: 'Tick the options to pass; Enter to edit their values next',
    canPickMany: true,
    matchOnDetail: true,
  });
  return chosen?.map((c) => c.option);
}
