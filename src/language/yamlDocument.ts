import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Position, Range } from 'vscode-languageserver';

export type YamlPath = (string | number)[];

/** A key: value pair of a mapping (or an item of a list, then without a key), with its path. */
export interface Entry {
  path: YamlPath;
  key?: Node;
  value: Node | null;
}

/** mlops.yaml's text parsed with positions: the ranges of keys and values by path, for the language server. */
export class YamlDocument {
  readonly doc: Document.Parsed;
  private readonly counter = new LineCounter();
  private readonly lineStarts: number[];

  constructor(readonly text: string) {
    this.doc = parseDocument(text, { lineCounter: this.counter, prettyErrors: false, uniqueKeys: true });
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  get hasErrors(): boolean {
    return this.doc.errors.length > 0;
  }

  /** The plain data, as far as it parses (half-typed text still yields its other keys); an empty mapping when it is not one. */
  get data(): Record<string, unknown> {
    let js: unknown;
    try {
      js = this.doc.toJS();
    } catch {
      return {};
    }
    return js && typeof js === 'object' && !Array.isArray(js) ? (js as Record<string, unknown>) : {};
  }

  position(offset: number): Position {
    const pos = this.counter.linePos(Math.min(Math.max(offset, 0), this.text.length));
    return { line: pos.line - 1, character: pos.col - 1 };
  }

  offset(position: Position): number {
    const start = this.lineStarts[Math.min(position.line, this.lineStarts.length - 1)] ?? 0;
    return Math.min(start + position.character, this.text.length);
  }

  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(end) };
  }

  nodeRange(node: Node): Range {
    const [start, valueEnd] = node.range ?? [0, 0];
    return this.range(start, valueEnd);
  }

  /** The text of a 1-based line without its indentation and trailing spaces (where a line-numbered problem points). */
  lineRange(line: number): Range {
    const index = Math.min(Math.max(line - 1, 0), this.lineStarts.length - 1);
    const text = this.lineText(index);
    const start = text.length - text.trimStart().length;
    return { start: { line: index, character: start }, end: { line: index, character: text.trimEnd().length } };
  }

  lineText(index: number): string {
    const start = this.lineStarts[index] ?? this.text.length;
    const end = this.lineStarts[index + 1] ?? this.text.length + 1;
    return this.text.slice(start, end - 1).replace(/\r$/, '');
  }

  /** The entry at `path` (keys of mappings, indices of lists); undefined where there is none. */
  entry(path: YamlPath): Entry | undefined {
    let node: unknown = this.doc.contents;
    let key: Node | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) return undefined;
        key = pair.key as Node;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        key = undefined;
        if (node === undefined) return undefined;
      } else {
        return undefined;
      }
    }
    return { path, key, value: (node ?? null) as Node | null };
  }

  /** Where to point at `path`: its key when it has one, else its value; the whole document when there is neither. */
  rangeOf(path: YamlPath, prefer: 'key' | 'value' = 'key'): Range {
    for (let depth = path.length; depth > 0; depth--) {
      const found = this.entry(path.slice(0, depth));
      if (!found) continue;
      const node = prefer === 'value' && depth === path.length ? found.value ?? found.key : found.key ?? found.value;
      if (node) return this.nodeRange(node);
    }
    return this.lineRange(1);
  }

  /** The entries of the mapping at `path` (none when it is not a mapping). */
  entries(path: YamlPath): Entry[] {
    const at = path.length ? this.entry(path)?.value : (this.doc.contents as Node | null);
    if (isMap(at)) return at.items.filter((p) => isScalar(p.key)).map((p) => ({ path: [...path, String((p.key as { value: unknown }).value)], key: p.key as Node, value: (p.value ?? null) as Node | null }));
    if (isSeq(at)) return at.items.map((item, i) => ({ path: [...path, i], value: item as Node }));
    return [];
  }

  /** The innermost entry whose key or scalar value holds `offset`, and which of the two it is. */
  at(offset: number): { entry: Entry; on: 'key' | 'value' } | undefined {
    const within = (node: Node | null | undefined): boolean => !!node?.range && offset >= node.range[0] && offset <= node.range[1];
    let found: { entry: Entry; on: 'key' | 'value' } | undefined;
    const walk = (path: YamlPath) => {
      for (const e of this.entries(path)) {
        if (within(e.key)) found = { entry: e, on: 'key' };
        else if (isScalar(e.value) && within(e.value)) found = { entry: e, on: 'value' };
        else if (e.value && (isMap(e.value) || isSeq(e.value)) && within(e.value)) walk(e.path);
        if (found) return;
      }
    };
    walk([]);
    return found;
  }
}

/** The scalar's text, or undefined for anything else. */
export function scalarText(node: Node | null | undefined): string | undefined {
  return isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? String(node.value) : undefined;
}
