import type { Position } from 'vscode-languageserver';
import type { YamlDocument, YamlPath } from './yamlDocument';

/**
 * What is being written at the cursor, read from the lines above by indentation (the text
 * is often not valid YAML while a line is half typed):
 *   key    a key of the mapping at `path`
 *   value  the value of `path`'s last key
 *   item   an item of the list at `path` (block `- x` or flow `[a, x`)
 */
export interface CursorContext {
  kind: 'key' | 'value' | 'item';
  path: YamlPath;
  /** The value or item typed so far (a whole gate expression, say). */
  text: string;
  /** The word at the cursor, which a completion replaces, and where it starts on the line. */
  word: string;
  wordStart: number;
  /** Indentation of the line, for completions that insert lines. */
  indent: number;
}

const KEY_LINE = /^(\s*)(?:-\s+)?(["']?)([^\s#:"'][^#:"']*?)\2\s*:(?:\s+(.*))?\s*$/;
const unquote = (key: string) => key.trim();

export function cursorContext(doc: YamlDocument, position: Position): CursorContext {
  const before = doc.lineText(position.line).slice(0, position.character);
  const indent = before.length - before.trimStart().length;
  const wordMatch = /[^\s,[\]{}]*$/.exec(before)!;
  const word = wordMatch[0];
  const base = { word, wordStart: wordMatch.index, indent };

  const flow = /^\s*(?:-\s+)?(["']?)([^\s#:"'][^#:"']*?)\1\s*:\s*\[([^\]]*)$/.exec(before);
  if (flow) return { ...base, kind: 'item', path: [...parents(doc, position.line, indent, false), unquote(flow[2])], text: flow[3].split(',').pop()!.trim() };
  const item = /^(\s*)-\s+(.*)$/.exec(before);
  if (item && !KEY_LINE.test(before)) return { ...base, kind: 'item', path: parents(doc, position.line, indent, true), text: item[2] };
  const value = /^\s*(?:-\s+)?(["']?)([^\s#:"'][^#:"']*?)\1\s*:\s+(.*)$/.exec(before);
  if (value) return { ...base, kind: 'value', path: [...parents(doc, position.line, indent, false), unquote(value[2])], text: value[3] };
  return { ...base, kind: 'key', path: parents(doc, position.line, indent, false), text: before.trim() };
}

/**
 * The keys above a line, outermost first: each nearer line with less indentation that is a key
 * is a parent. A list item may sit at its key's own indentation (`deps:` then `- a` below it).
 */
function parents(doc: YamlDocument, line: number, indent: number, isItem: boolean): string[] {
  const path: string[] = [];
  let within = indent;
  for (let i = line - 1; i >= 0 && within > 0; i--) {
    const text = doc.lineText(i);
    if (!text.trim() || text.trimStart().startsWith('#')) continue;
    const lineIndent = text.length - text.trimStart().length;
    const key = KEY_LINE.exec(text);
    const compactList = isItem && path.length === 0 && lineIndent === indent && key && !key[4];
    if (lineIndent >= within && !compactList) continue;
    if (key && !text.trimStart().startsWith('-')) path.unshift(unquote(key[3]));
    within = lineIndent;
  }
  // `deps:` then `- a` at the same indentation, at the top level.
  if (isItem && indent === 0 && path.length === 0) {
    for (let i = line - 1; i >= 0; i--) {
      const key = KEY_LINE.exec(doc.lineText(i));
      if (key && key[1] === '' && !key[4]) return [unquote(key[3])];
      if (key && key[1] === '') break;
    }
  }
  return path;
}
