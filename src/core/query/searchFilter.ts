/**
 * The engine's query language: MLflow's search filter and order_by syntax, as a small tokenizer
 * and parser of our own, used by the runs table, `mlops runs list --filter` and the MLflow endpoint:
 *
 *   metrics.acc > 0.9 and params.lr = '0.01' and tags.stage != 'dev'
 *   attributes.status = 'FINISHED' and tags.`my tag` LIKE 'ab%' and run_id IN ('a1', 'b2')
 *
 * `parseRunFilter(text)` gives a plain-data AST; `matchRun(ast, run)` evaluates it over a run's
 * params, latest metrics, tags and attributes; `parseOrderBy` and `compareRuns` sort. Every
 * mistake is a FilterError that says what was expected and where.
 *
 * The `mlflow` dialect (the default) accepts exactly what MLflow does: comparisons joined by AND.
 * The `workbench` dialect (for the runs table) also accepts OR, parentheses, and IN / NOT IN on
 * every string field. Neither ever evaluates code: the AST is data.
 */
import { preview } from '../format';

export type Entity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';
export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface Comparison {
  kind: 'compare';
  entity: Entity;
  /** The key after aliases are resolved (`created` → `start_time`, `Run name` → `run_name`). */
  key: string;
  op: Comparator;
  value: number | string | string[];
}
export interface AndNode { kind: 'and'; clauses: FilterNode[] }
export interface OrNode { kind: 'or'; clauses: FilterNode[] }
export type FilterNode = Comparison | AndNode | OrNode;

export interface OrderKey { entity: Entity; key: string; ascending: boolean }

export interface ParseOptions { dialect?: 'mlflow' | 'workbench' }

/** What a query can name: entities, attribute keys with their type, aliases. */
export interface FilterSchema {
  what: string;
  entities: ReadonlySet<Entity>;
  attributes: Readonly<Record<string, 'string' | 'number'>>;
  /** Attributes only `order_by` accepts. */
  orderOnly?: Readonly<Record<string, 'string' | 'number'>>;
  aliases: Readonly<Record<string, string>>;
  /** String attributes that accept IN lists in the mlflow dialect. */
  inAttributes: ReadonlySet<string>;
}

export const RUN_SCHEMA: FilterSchema = {
  what: 'runs',
  entities: new Set<Entity>(['metric', 'param', 'tag', 'attribute', 'dataset']),
  attributes: {
    run_id: 'string', run_name: 'string', user_id: 'string', status: 'string', artifact_uri: 'string',
    start_time: 'number', end_time: 'number',
  },
  aliases: { created: 'start_time', Created: 'start_time', 'run name': 'run_name', 'Run name': 'run_name', 'Run Name': 'run_name' },
  inAttributes: new Set(['run_id']),
};

export const EXPERIMENT_SCHEMA: FilterSchema = {
  what: 'experiments',
  entities: new Set<Entity>(['tag', 'attribute']),
  attributes: { name: 'string', creation_time: 'number', last_update_time: 'number' },
  orderOnly: { experiment_id: 'string' },
  aliases: {},
  inAttributes: new Set(),
};

/** MLflow's search_registered_models: `name LIKE '%cnn%'`, `tags.team = 'vision'`. */
export const MODEL_SCHEMA: FilterSchema = {
  what: 'registered models',
  entities: new Set<Entity>(['tag', 'attribute']),
  attributes: { name: 'string' },
  orderOnly: { creation_timestamp: 'number', last_updated_timestamp: 'number' },
  aliases: { timestamp: 'last_updated_timestamp' },
  inAttributes: new Set(),
};

/** MLflow's search_model_versions: `name = 'clf'`, `run_id IN ('…')`, `tags.k = 'v'`. */
export const MODEL_VERSION_SCHEMA: FilterSchema = {
  what: 'model versions',
  entities: new Set<Entity>(['tag', 'attribute']),
  attributes: { name: 'string', run_id: 'string', source_path: 'string', version_number: 'number', current_stage: 'string' },
  orderOnly: { creation_timestamp: 'number', last_updated_timestamp: 'number' },
  aliases: { version: 'version_number', timestamp: 'last_updated_timestamp' },
  inAttributes: new Set(['name', 'run_id']),
};

const DATASET_KEYS = new Set(['name', 'digest', 'context']);
const ENTITY_NAMES: Record<string, Entity> = {
  metric: 'metric', metrics: 'metric',
  parameter: 'param', parameters: 'param', param: 'param', params: 'param',
  tag: 'tag', tags: 'tag',
  attribute: 'attribute', attr: 'attribute', attributes: 'attribute', run: 'attribute',
  dataset: 'dataset', datasets: 'dataset',
};
const NUMERIC_OPS = new Set<Comparator>(['=', '!=', '>', '>=', '<', '<=']);
const STRING_OPS = new Set<Comparator>(['=', '!=', 'LIKE', 'ILIKE']);
const LIST_OPS = new Set<Comparator>(['IN', 'NOT IN']);

/** A filter or order_by the parser cannot accept, with the character position (the MLflow endpoint answers it as INVALID_PARAMETER_VALUE). */
export class FilterError extends Error {
  constructor(message: string, readonly position?: number) {
    super(message);
    this.name = 'FilterError';
  }
}

// ---------------------------------------------------------------- tokens

type TokenType = 'word' | 'string' | 'backtick' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma' | 'eof';
interface Token { type: TokenType; text: string; value: string; start: number; end: number }

const WORD_START = /[\p{L}_]/u;
const WORD_CHAR = /[\p{L}\p{N}_.\-/]/u;
const MAX_FILTER_LENGTH = 100_000;

function tokenize(text: string, what: string): Token[] {
  if (text.length > MAX_FILTER_LENGTH) throw new FilterError(`The ${what} is ${text.length} characters long; at most ${MAX_FILTER_LENGTH} are accepted.`);
  const tokens: Token[] = [];
  let i = 0;
  const fail = (message: string, at: number): never => {
    throw new FilterError(`Invalid ${what} '${preview(text, 200)}': ${message} at character ${at + 1}.`, at);
  };
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"' || c === '`') {
      // A quote inside is written twice ('it''s') or escaped with a backslash ('it\'s').
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) fail(`the ${c === '`' ? 'backtick' : 'quote'} opened here is never closed`, start);
        const d = text[i];
        if (d === '\\' && i + 1 < text.length && (text[i + 1] === c || text[i + 1] === '\\')) {
          value += text[i + 1];
          i += 2;
        } else if (d === c && text[i + 1] === c) {
          value += c;
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ type: c === '`' ? 'backtick' : 'string', text: text.slice(start, i), value, start, end: i });
      continue;
    }
    const numberMatch = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (numberMatch && (/\d/.test(c) || (/[+\-.]/.test(c) && /[\d.]/.test(text[i + 1] ?? '')))) {
      i += numberMatch[0].length;
      if (i < text.length && WORD_START.test(text[i])) fail(`a number runs into "${text[i]}"`, i);
      tokens.push({ type: 'number', text: numberMatch[0], value: numberMatch[0], start, end: i });
      continue;
    }
    if (WORD_START.test(c)) {
      while (i < text.length && WORD_CHAR.test(text[i])) i++;
      tokens.push({ type: 'word', text: text.slice(start, i), value: text.slice(start, i), start, end: i });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '!=' || two === '>=' || two === '<=') {
      i += 2;
      tokens.push({ type: 'op', text: two, value: two, start, end: i });
      continue;
    }
    if (two === '==' || two === '<>') fail(`"${two}" is not a comparison here; use "=" or "!="`, i);
    if (c === '=' || c === '>' || c === '<') {
      i++;
      tokens.push({ type: 'op', text: c, value: c, start, end: i });
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      i++;
      tokens.push({ type: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', text: c, value: c, start, end: i });
      continue;
    }
    fail(`unexpected character "${c}"`, i);
  }
  tokens.push({ type: 'eof', text: '', value: '', start: text.length, end: text.length });
  return tokens;
}

function isKeyword(t: Token, word: string): boolean {
  return t.type === 'word' && t.value.toUpperCase() === word;
}

// ---------------------------------------------------------------- parser

class Parser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
    private readonly schema: FilterSchema,
    private readonly workbench: boolean,
    private readonly what: string,
  ) {}

  /** The current token (a method, so that narrowing does not outlive `this.i++`). */
  private cur(): Token {
    return this.tokens[this.i];
  }

  private fail(message: string, at = this.cur().start): never {
    throw new FilterError(`Invalid ${this.what} '${preview(this.text, 200)}': ${message} (at character ${at + 1}).`, at);
  }

  private describe(t: Token): string {
    return t.type === 'eof' ? 'the end of the filter' : `"${preview(t.text, 60)}"`;
  }

  parseFilter(): FilterNode {
    const node = this.parseOr();
    if (this.cur().type !== 'eof') {
      if (isKeyword(this.cur(), 'OR')) this.fail('OR is not supported; MLflow filters join comparisons with AND only');
      this.fail(`expected AND or the end of the filter, found ${this.describe(this.cur())}`);
    }
    return node;
  }

  private parseOr(): FilterNode {
    const first = this.parseAnd();
    if (!this.workbench || !isKeyword(this.cur(), 'OR')) return first;
    const clauses = [first];
    while (isKeyword(this.cur(), 'OR')) {
      this.i++;
      clauses.push(this.parseAnd());
    }
    return { kind: 'or', clauses };
  }

  private parseAnd(): FilterNode {
    const clauses = [this.parseUnary()];
    while (isKeyword(this.cur(), 'AND')) {
      this.i++;
      clauses.push(this.parseUnary());
    }
    return clauses.length === 1 ? clauses[0] : { kind: 'and', clauses };
  }

  private parseUnary(): FilterNode {
    if (this.cur().type === 'lparen') {
      if (!this.workbench) this.fail('parentheses are only allowed around an IN list');
      this.i++;
      const inner = this.parseOr();
      if (this.cur().type !== 'rparen') this.fail(`expected ")", found ${this.describe(this.cur())}`);
      this.i++;
      return inner;
    }
    return this.parseComparison();
  }

  /** `entity.key` (key bare, 'quoted', "quoted" or `backticked`), or a bare attribute name. */
  parseColumn(orderBy = false): { entity: Entity; key: string; at: number } {
    const t = this.cur();
    const at = t.start;
    let entityText: string;
    let key: string | undefined;
    if (t.type === 'word') {
      this.i++;
      const dot = t.value.indexOf('.');
      if (dot < 0) {
        entityText = 'attribute';
        key = t.value;
      } else {
        entityText = t.value.slice(0, dot);
        key = t.value.slice(dot + 1);
        if (key === '') key = this.adjacentQuoted(t);
      }
    } else if (t.type === 'backtick') {
      this.i++;
      const next = this.cur();
      if (next.type === 'word' && next.start === t.end && next.value.startsWith('.')) {
        this.i++;
        entityText = t.value;
        key = next.value.slice(1) || this.adjacentQuoted(next);
      } else {
        entityText = 'attribute';
        key = t.value;
      }
    } else {
      const example = this.schema === RUN_SCHEMA ? "metrics.<key>, params.<key>, tags.<key> or attributes.<name>" : 'name, tags.<key>, creation_time or last_update_time';
      return this.fail(`expected a column such as ${example}, found ${this.describe(t)}`);
    }
    const entity = ENTITY_NAMES[entityText];
    if (!entity || !this.schema.entities.has(entity)) {
      const valid = [...new Set(Object.entries(ENTITY_NAMES).filter(([, e]) => this.schema.entities.has(e)).map(([n]) => n))];
      this.fail(`invalid entity type '${entityText}'; valid values are ${valid.join(', ')}`, at);
    }
    if (key === '') this.fail(`"${entityText}." needs a key after the dot`, at);
    if (entity === 'attribute') {
      key = this.schema.aliases[key] ?? key;
      const known = this.schema.attributes[key] ?? (orderBy ? this.schema.orderOnly?.[key] : undefined);
      if (!known) {
        const valid = [...Object.keys(this.schema.attributes), ...(orderBy ? Object.keys(this.schema.orderOnly ?? {}) : [])];
        this.fail(`invalid attribute key '${key}'; valid keys are ${valid.join(', ')}`, at);
      }
    }
    if (entity === 'dataset' && !DATASET_KEYS.has(key)) this.fail(`invalid dataset key '${key}'; valid keys are name, digest, context`, at);
    return { entity, key, at };
  }

  /** The key of `metrics."my key"`: a quoted token right after the dot, with no space. */
  private adjacentQuoted(word: Token): string {
    const next = this.cur();
    if ((next.type === 'string' || next.type === 'backtick') && next.start === word.end) {
      this.i++;
      return next.value;
    }
    return '';
  }

  private parseComparator(): Comparator {
    const t = this.cur();
    if (t.type === 'op') {
      this.i++;
      return t.value as Comparator;
    }
    for (const word of ['LIKE', 'ILIKE', 'IN'] as const) {
      if (isKeyword(t, word)) {
        this.i++;
        return word;
      }
    }
    if (isKeyword(t, 'NOT') && isKeyword(this.tokens[this.i + 1], 'IN')) {
      this.i += 2;
      return 'NOT IN';
    }
    return this.fail(`expected a comparison (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN), found ${this.describe(t)}`);
  }

  private parseComparison(): Comparison {
    const { entity, key } = this.parseColumn();
    const opAt = this.cur().start;
    const op = this.parseComparator();
    // Params are strings in MLflow; the runs table also lets `params.lr < 0.01` compare them as numbers.
    const numericParam = this.workbench && entity === 'param' && this.cur().type === 'number';
    const numeric = entity === 'metric' || numericParam || (entity === 'attribute' && this.schema.attributes[key] === 'number');
    const allowed = numeric ? NUMERIC_OPS : new Set([...STRING_OPS, ...(this.listAllowed(entity, key) ? LIST_OPS : [])]);
    const column = `${entity === 'attribute' ? 'attribute' : entity} '${key}'`;
    if (!allowed.has(op)) {
      if (LIST_OPS.has(op) && !numeric) this.fail(`${column} does not support ${op}; only the 'run_id' attribute and dataset keys compare with a list of quoted strings`, opAt);
      this.fail(`invalid comparator '${op}' for ${column}; use one of ${[...allowed].join(', ')}`, opAt);
    }
    const v = this.cur();
    let value: Comparison['value'];
    if (LIST_OPS.has(op)) {
      value = this.parseList();
    } else if (numeric) {
      if (v.type !== 'number') this.fail(`expected a number for ${column}, found ${this.describe(v)}`, v.start);
      this.i++;
      value = Number(v.value);
      if (entity === 'attribute' && !Number.isInteger(value)) this.fail(`expected an integer (milliseconds) for ${column}, found ${v.text}`, v.start);
    } else {
      if (v.type !== 'string') this.fail(`expected a quoted string value for ${column} (e.g. 'my-value'), found ${this.describe(v)}`, v.start);
      this.i++;
      value = v.value;
    }
    return { kind: 'compare', entity, key, op, value };
  }

  private listAllowed(entity: Entity, key: string): boolean {
    if (entity === 'dataset') return true;
    if (this.workbench) return entity !== 'metric';
    return entity === 'attribute' && this.schema.inAttributes.has(key);
  }

  private parseList(): string[] {
    if (this.cur().type !== 'lparen') this.fail(`expected "(" to open a list of quoted strings, found ${this.describe(this.cur())}`);
    this.i++;
    const values: string[] = [];
    for (;;) {
      const t = this.cur();
      if (t.type !== 'string') this.fail(`expected a quoted string in the list, found ${this.describe(t)}`);
      values.push(t.value);
      this.i++;
      if (this.cur().type === 'comma') {
        this.i++;
        continue;
      }
      if (this.cur().type === 'rparen') {
        this.i++;
        return values;
      }
      this.fail(`expected "," or ")" in the list, found ${this.describe(this.cur())}`);
    }
  }

  parseOrderBy(): OrderKey {
    const { entity, key } = this.parseColumn(true);
    if (entity === 'dataset') this.fail('runs cannot be ordered by dataset keys');
    let ascending = true;
    if (isKeyword(this.cur(), 'ASC') || isKeyword(this.cur(), 'DESC')) {
      ascending = this.cur().value.toUpperCase() === 'ASC';
      this.i++;
    }
    if (this.cur().type !== 'eof') this.fail(`expected ASC, DESC or the end of the clause, found ${this.describe(this.cur())}`);
    return { entity, key, ascending };
  }
}

/** Parses a runs/search filter; an empty or blank filter matches every run (undefined). */
export function parseRunFilter(text: string | undefined, options: ParseOptions = {}): FilterNode | undefined {
  return parseFilterWith(text, RUN_SCHEMA, options);
}

export function parseExperimentFilter(text: string | undefined): FilterNode | undefined {
  return parseFilterWith(text, EXPERIMENT_SCHEMA, {});
}

/** Parses a filter over what `schema` names (runs, experiments, registered models, model versions). */
export function parseFilterWith(text: string | undefined, schema: FilterSchema, options: ParseOptions): FilterNode | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const what = 'filter';
  return new Parser(text, tokenize(text, what), schema, options.dialect === 'workbench', what).parseFilter();
}

/** Parses one order_by clause: `metrics.acc DESC`, `attributes.start_time`, `params.\`my key\` ASC`. */
export function parseOrderBy(clause: string, schema: FilterSchema = RUN_SCHEMA): OrderKey {
  const what = 'order_by clause';
  if (clause.trim() === '') throw new FilterError(`Invalid ${what} '': it is empty.`);
  return new Parser(clause, tokenize(clause, what), schema, false, what).parseOrderBy();
}

// ---------------------------------------------------------------- evaluation

export interface DatasetView { name: string; digest: string; context?: string }

/** What a filter sees of one run. `metrics` holds the latest value per key (NaN allowed). */
export interface RunView {
  params: Readonly<Record<string, string>>;
  metrics: Readonly<Record<string, number>>;
  tags: Readonly<Record<string, string>>;
  attributes: Readonly<Record<string, string | number | null | undefined>>;
  datasets?: readonly DatasetView[];
}

const likeCache = new Map<string, RegExp>();

/** SQL LIKE: % any run of characters, _ any one character, everything else literal. */
export function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const cacheKey = `${caseInsensitive ? 'i' : 's'}${pattern}`;
  let re = likeCache.get(cacheKey);
  if (!re) {
    let source = '';
    for (const ch of pattern) {
      if (ch === '%') source += '[\\s\\S]*';
      else if (ch === '_') source += '[\\s\\S]';
      else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); // the escapes valid in a `u` pattern
    }
    re = new RegExp(`^${source}$`, caseInsensitive ? 'iu' : 'u');
    if (likeCache.size > 1000) likeCache.clear();
    likeCache.set(cacheKey, re);
  }
  return re;
}

function compare(lhs: string | number, op: Comparator, value: Comparison['value']): boolean {
  switch (op) {
    case '=': return lhs === value;
    case '!=': return lhs !== value;
    case '>': return (lhs as number) > (value as number);
    case '>=': return (lhs as number) >= (value as number);
    case '<': return (lhs as number) < (value as number);
    case '<=': return (lhs as number) <= (value as number);
    case 'LIKE': return likeToRegExp(value as string, false).test(String(lhs));
    case 'ILIKE': return likeToRegExp(value as string, true).test(String(lhs));
    case 'IN': return (value as string[]).includes(String(lhs));
    case 'NOT IN': return !(value as string[]).includes(String(lhs));
  }
}

/** The run's value that a comparison or an order_by key names (datasets are not single values). */
function lookup(field: { entity: Entity; key: string }, run: RunView): string | number | null | undefined {
  switch (field.entity) {
    case 'metric': return own(run.metrics, field.key);
    case 'param': return own(run.params, field.key);
    case 'tag': return own(run.tags, field.key);
    case 'attribute': return own(run.attributes, field.key);
    default: return undefined;
  }
}

function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** True when the run satisfies the filter. A missing param/metric/tag never matches, not even `!=` (MLflow's rule). */
export function matchRun(node: FilterNode | undefined, run: RunView): boolean {
  if (!node) return true;
  switch (node.kind) {
    case 'and': return node.clauses.every((c) => matchRun(c, run));
    case 'or': return node.clauses.some((c) => matchRun(c, run));
    case 'compare': {
      if (node.entity === 'dataset') {
        return (run.datasets ?? []).some((d) => {
          const lhs = node.key === 'name' ? d.name : node.key === 'digest' ? d.digest : d.context;
          return lhs !== undefined && compare(lhs, node.op, node.value);
        });
      }
      let lhs = lookup(node, run);
      if (node.entity === 'param' && typeof node.value === 'number' && typeof lhs === 'string') {
        lhs = lhs.trim() === '' ? NaN : Number(lhs); // a param that is not a number never matches
        if (Number.isNaN(lhs)) return false;
      }
      return lhs !== undefined && lhs !== null && compare(lhs, node.op, node.value);
    }
  }
}

/** Keys a filter or ordering reads, so a caller can load only those metrics. */
export function referencedKeys(node: FilterNode | undefined, order: readonly OrderKey[] = []): Record<'metric' | 'param' | 'tag', Set<string>> {
  const out = { metric: new Set<string>(), param: new Set<string>(), tag: new Set<string>() };
  const visit = (n: FilterNode | undefined): void => {
    if (!n) return;
    if (n.kind === 'compare') {
      if (n.entity === 'metric' || n.entity === 'param' || n.entity === 'tag') out[n.entity].add(n.key);
    } else n.clauses.forEach(visit);
  };
  visit(node);
  for (const o of order) if (o.entity === 'metric' || o.entity === 'param' || o.entity === 'tag') out[o.entity].add(o.key);
  return out;
}

type SortValue = string | number | null | undefined;

/** Missing values and NaN sort after every value, in either direction (MLflow's rule); NaN before missing. */
function compareValues(a: SortValue, b: SortValue, ascending: boolean): number {
  const rank = (v: SortValue): number => (v === undefined || v === null ? 2 : typeof v === 'number' && Number.isNaN(v) ? 1 : 0);
  const ra = rank(a), rb = rank(b);
  if (ra || rb) return ra - rb;
  let c: number;
  if (typeof a === 'number' && typeof b === 'number') c = a - b;
  else {
    const sa = String(a), sb = String(b);
    c = sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  return ascending ? c : -c;
}

/**
 * Orders runs by the order_by keys, then MLflow's natural order: start_time descending, then
 * run_id ascending.
 */
export function compareRuns(a: RunView, b: RunView, order: readonly OrderKey[]): number {
  for (const key of order) {
    const c = compareValues(lookup(key, a), lookup(key, b), key.ascending);
    if (c) return c;
  }
  const c = compareValues(a.attributes.start_time, b.attributes.start_time, false);
  if (c) return c;
  return compareValues(a.attributes.run_id, b.attributes.run_id, true);
}
