import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Location, Position } from 'vscode-languageserver';
import { scalarText, type YamlDocument } from './yamlDocument';

const isFile = (file: string) => {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

/** The words of a command line, quotes removed (enough to find the script in `python3 "my train.py" --lr 0.1`). */
function words(cmd: string): string[] {
  return [...cmd.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** Go to definition: a stage's cmd opens its script (the first word that is a file), a dep opens the file. */
export function definition(doc: YamlDocument, position: Position, root: string): Location | null {
  const found = doc.at(doc.offset(position));
  if (!found || found.on !== 'value') return null;
  const [top, , field] = found.entry.path;
  const text = scalarText(found.entry.value);
  if (top !== 'stages' || text === undefined) return null;
  let file: string | undefined;
  if (field === 'cmd') file = words(text).map((w) => path.resolve(root, w)).find(isFile);
  else if (field === 'deps' && isFile(path.resolve(root, text))) file = path.resolve(root, text);
  if (!file) return null;
  return { uri: pathToFileURL(file).toString(), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } };
}
