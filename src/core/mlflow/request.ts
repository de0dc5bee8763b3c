import { invalidParameter } from './errors';
import { preview } from '../format';

/**
 * Reads the fields of one request message the way MLflow's protobuf JSON parsing does: a POST's
 * JSON object (snake_case fields, int64 as numbers or decimal strings, doubles as numbers or
 * "NaN"/"Infinity"/"-Infinity", enums as names), or a GET's query string (every value a
 * string, repeated fields as repeated keys). Unknown fields are ignored; `null` means unset.
 * A wrong type is INVALID_PARAMETER_VALUE naming the field.
 */
export class RequestMessage {
  constructor(private readonly fields: Record<string, unknown>, private readonly fromQuery = false) {}

  static fromQuery(params: URLSearchParams): RequestMessage {
    const fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const key of new Set(params.keys())) {
      const all = params.getAll(key);
      fields[key] = all.length === 1 ? all[0] : all;
    }
    return new RequestMessage(fields, true);
  }

  private field(name: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.fields, name) ? this.fields[name] : undefined;
  }

  /** A string field; from a query string, a repeated key takes its last value (as protobuf does). */
  string(name: string): string | undefined {
    let v = this.field(name);
    if (v === undefined || v === null) return undefined;
    if (this.fromQuery && Array.isArray(v)) v = v[v.length - 1];
    if (typeof v !== 'string') throw wrongType(name, v);
    return v;
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === '') throw missing(name);
    return v;
  }

  /** An int64 field: a JSON integer or a decimal string; outside ±2^53 it cannot be kept exactly and is refused. */
  int64(name: string): number | undefined {
    let v = this.field(name);
    if (v === undefined || v === null) return undefined;
    if (this.fromQuery && Array.isArray(v)) v = v[v.length - 1];
    return toInt64(name, v);
  }

  /** A double field: a JSON number, a numeric string, or "NaN" / "Infinity" / "-Infinity". */
  double(name: string): number | undefined {
    const v = this.field(name);
    if (v === undefined || v === null) return undefined;
    return toDouble(name, v);
  }

  /** A repeated string field (`experiment_ids`, `order_by`). */
  strings(name: string): string[] {
    const v = this.field(name);
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : this.fromQuery ? [v] : undefined;
    if (!list) throw wrongType(name, v, 'a list of strings');
    return list.map((item, i) => {
      if (typeof item !== 'string') throw wrongType(`${name}[${i}]`, item);
      return item;
    });
  }

  /** A repeated message field: a list of JSON objects (not expressible in a query string). */
  messages(name: string): RequestMessage[] {
    const v = this.field(name);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw wrongType(name, v, 'a list of objects');
    return v.map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw wrongType(`${name}[${i}]`, item, 'an object');
      return new RequestMessage(item as Record<string, unknown>);
    });
  }

  /** The fields as received (for a caller that checks them itself, on a hot path). */
  raw(): Record<string, unknown> {
    return this.fields;
  }

  /** A repeated message field as its raw items (a list is required; the items are the caller's to check). */
  rawList(name: string): unknown[] {
    const v = this.field(name);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw wrongType(name, v, 'a list of objects');
    return v;
  }

  /** A nested message field. */
  message(name: string): RequestMessage | undefined {
    const v = this.field(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(name, v, 'an object');
    return new RequestMessage(v as Record<string, unknown>);
  }

  /** An enum field: its name, or its number in `names` (protobuf JSON accepts both). */
  enumValue<T extends string>(name: string, names: readonly T[], numbers: Readonly<Record<number, T>>): T | undefined {
    let v = this.field(name);
    if (v === undefined || v === null) return undefined;
    if (this.fromQuery && Array.isArray(v)) v = v[v.length - 1];
    if (typeof v === 'string' && (names as readonly string[]).includes(v)) return v as T;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
    if (Number.isInteger(n) && numbers[n] !== undefined) return numbers[n];
    throw invalidParameter(`Invalid value ${preview(v)} for parameter '${name}' supplied: expected one of ${names.join(', ')}.`);
  }
}

export function missing(name: string): Error {
  return invalidParameter(`Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'object') return 'dict';
  return typeof v === 'string' ? 'str' : typeof v;
}

function wrongType(name: string, v: unknown, expected = 'a string'): Error {
  return invalidParameter(`Invalid value ${preview(v)} for parameter '${name}' supplied: expected ${expected}. Hint: Value was of type '${typeName(v)}'. See the API docs for more information about request parameters.`);
}

export function toInt64(name: string, v: unknown): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v.trim())) n = Number(v.trim());
  else throw wrongType(name, v, 'an integer (int64)');
  if (!Number.isInteger(n)) throw wrongType(name, v, 'an integer (int64)');
  if (!Number.isSafeInteger(n)) throw invalidParameter(`Invalid value ${preview(v)} for parameter '${name}' supplied: integers beyond ±${Number.MAX_SAFE_INTEGER} are not supported.`);
  return n;
}

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function toDouble(name: string, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (NUMERIC.test(v.trim())) return Number(v.trim());
  }
  throw wrongType(name, v, 'a number (double), or "NaN", "Infinity", "-Infinity"');
}
