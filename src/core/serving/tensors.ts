import { RequestError, preview } from './errors';
import { NumericData } from './numericJson';

/** Open Inference Protocol datatypes (reference/inference-protocol.md). */
export type Datatype = 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'FP16' | 'FP32' | 'FP64' | 'BYTES';

type TypedData = Uint8Array | Uint16Array | Uint32Array | BigUint64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;
export type TensorData = TypedData | string[];

/** A tensor on its way to or from onnxruntime: row-major data and its shape. */
export interface TensorValue {
  datatype: Datatype;
  shape: number[];
  data: TensorData;
  /** The rows as JSON in the client's own number text, when the body had it (for the prediction log). */
  sentRows?: () => Buffer | undefined;
}

interface TypeInfo {
  ort: string;
  bytes: number;
  make(n: number | ArrayBuffer): TypedData;
  /** Converts one JSON element, or returns undefined when it is not a value of this type. */
  from(v: unknown): number | bigint | undefined;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);
const int = (lo: number, hi: number) => (v: unknown) => (isNum(v) && Number.isInteger(v) && v >= lo && v <= hi ? v : undefined);
const big = (lo: bigint, hi: bigint) => (v: unknown) => {
  if (!(isNum(v) && Number.isInteger(v)) && !(typeof v === 'string' && /^-?\d+$/.test(v))) return undefined;
  const b = BigInt(v);
  return b >= lo && b <= hi ? b : undefined;
};
// JSON numbers; NaN and infinities arrive as the strings Python's json module writes.
const float = (v: unknown) => (typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : undefined);

const TYPES: Record<Exclude<Datatype, 'BYTES'>, TypeInfo> = {
  BOOL: { ort: 'bool', bytes: 1, make: (n) => new Uint8Array(n as number), from: (v) => (v === true || v === 1 ? 1 : v === false || v === 0 ? 0 : undefined) },
  UINT8: { ort: 'uint8', bytes: 1, make: (n) => new Uint8Array(n as number), from: int(0, 0xff) },
  UINT16: { ort: 'uint16', bytes: 2, make: (n) => new Uint16Array(n as number), from: int(0, 0xffff) },
  UINT32: { ort: 'uint32', bytes: 4, make: (n) => new Uint32Array(n as number), from: int(0, 0xffffffff) },
  UINT64: { ort: 'uint64', bytes: 8, make: (n) => new BigUint64Array(n as number), from: big(0n, 2n ** 64n - 1n) },
  INT8: { ort: 'int8', bytes: 1, make: (n) => new Int8Array(n as number), from: int(-0x80, 0x7f) },
  INT16: { ort: 'int16', bytes: 2, make: (n) => new Int16Array(n as number), from: int(-0x8000, 0x7fff) },
  INT32: { ort: 'int32', bytes: 4, make: (n) => new Int32Array(n as number), from: int(-0x80000000, 0x7fffffff) },
  INT64: { ort: 'int64', bytes: 8, make: (n) => new BigInt64Array(n as number), from: big(-(2n ** 63n), 2n ** 63n - 1n) },
  FP16: { ort: 'float16', bytes: 2, make: (n) => new Uint16Array(n as number), from: (v) => { const f = float(v); return f === undefined ? undefined : toHalf(f); } },
  FP32: { ort: 'float32', bytes: 4, make: (n) => new Float32Array(n as number), from: float },
  FP64: { ort: 'float64', bytes: 8, make: (n) => new Float64Array(n as number), from: float },
};

const BY_ORT = new Map<string, Datatype>([...Object.entries(TYPES).map(([k, t]) => [t.ort, k as Datatype] as const), ['string', 'BYTES']]);

export function datatypeOfOrt(ortType: string): Datatype | undefined {
  return BY_ORT.get(ortType);
}

export function ortTypeOf(datatype: Datatype): string {
  return datatype === 'BYTES' ? 'string' : TYPES[datatype].ort;
}

export function isDatatype(v: unknown): v is Datatype {
  return typeof v === 'string' && (v === 'BYTES' || v in TYPES);
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Flattens row-major nested arrays, checking every level has the length the shape says. */
function flatten(data: unknown[], shape: number[], what: string): unknown[] {
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (!Array.isArray(v)) {
      out.push(v);
      return;
    }
    if (depth >= shape.length || v.length !== shape[depth]) {
      throw new RequestError(400, `${what}: nested data does not match shape ${JSON.stringify(shape)} (a list of ${v.length} at depth ${depth + 1}).`);
    }
    for (const x of v) walk(x, depth + 1);
  };
  walk(data, 0);
  return out;
}

/** Float data read by the body's fast path, when it fits the shape as `flatten` would accept it. */
function fromNumeric(datatype: Datatype, shape: number[], data: NumericData): TensorValue | undefined {
  if (datatype !== 'FP32' && datatype !== 'FP64') return undefined;
  const { dims } = data;
  if (dims.length > 1 && (dims.length > shape.length || dims.some((d, i) => d !== shape[i]))) return undefined;
  if (data.length !== elementCount(shape)) return undefined;
  return { datatype, shape, data: datatype === 'FP32' ? data.float32() : data.float64(), sentRows: () => data.rowsText(shape) };
}

/** JSON `data` (flat or nested) of a declared datatype and shape as a typed tensor. */
export function tensorFromJson(datatype: Datatype, shape: number[], data: unknown, what: string): TensorValue {
  if (data instanceof NumericData) {
    const fast = fromNumeric(datatype, shape, data);
    if (fast) return fast;
    data = data.toJson(); // other datatypes, and the errors, as the general path has them
  }
  if (!Array.isArray(data)) throw new RequestError(400, `${what}: "data" must be a list of values, not ${preview(data)}.`);
  const flat = flatten(data, shape, what);
  const n = elementCount(shape);
  if (flat.length !== n) throw new RequestError(400, `${what}: shape ${JSON.stringify(shape)} needs ${n} values but "data" has ${flat.length}.`);
  if (datatype === 'BYTES') {
    const strings = flat.map((v, i) => {
      if (typeof v !== 'string') throw new RequestError(400, `${what}: BYTES data must be strings; element ${i} is ${preview(v)}.`);
      return v;
    });
    return { datatype, shape, data: strings };
  }
  const info = TYPES[datatype];
  const out = info.make(n);
  if (datatype === 'FP32' || datatype === 'FP64') {
    // The hot path: plain numbers straight in.
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (typeof v === 'number') out[i] = v;
      else {
        const f = float(v);
        if (f === undefined) throw new RequestError(400, `${what}: ${datatype} data must be numbers; element ${i} is ${preview(v)}.`);
        out[i] = f;
      }
    }
    return { datatype, shape, data: out };
  }
  for (let i = 0; i < n; i++) {
    const v = info.from(flat[i]);
    if (v === undefined) throw new RequestError(400, `${what}: element ${i} (${preview(flat[i])}) is not a ${datatype} value.`);
    (out as unknown as (number | bigint)[])[i] = v;
  }
  return { datatype, shape, data: out };
}

/** Binary tensor data (the binary data extension): little-endian elements, BYTES as 4-byte length + bytes. */
export function tensorFromBinary(datatype: Datatype, shape: number[], bytes: Buffer, what: string): TensorValue {
  const n = elementCount(shape);
  if (datatype === 'BYTES') {
    const strings: string[] = [];
    let at = 0;
    while (at < bytes.length) {
      if (at + 4 > bytes.length) throw new RequestError(400, `${what}: binary BYTES data is cut inside a length prefix.`);
      const len = bytes.readUInt32LE(at);
      if (at + 4 + len > bytes.length) throw new RequestError(400, `${what}: binary BYTES element ${strings.length} claims ${len} bytes but the data ends first.`);
      strings.push(bytes.toString('utf8', at + 4, at + 4 + len));
      at += 4 + len;
    }
    if (strings.length !== n) throw new RequestError(400, `${what}: shape ${JSON.stringify(shape)} needs ${n} values but the binary data has ${strings.length}.`);
    return { datatype, shape, data: strings };
  }
  const info = TYPES[datatype];
  if (bytes.length !== n * info.bytes) {
    throw new RequestError(400, `${what}: shape ${JSON.stringify(shape)} of ${datatype} needs ${n * info.bytes} bytes but binary_data_size is ${bytes.length}.`);
  }
  const copy = new ArrayBuffer(bytes.length); // aligned for the typed array
  new Uint8Array(copy).set(bytes);
  return { datatype, shape, data: info.make(copy) };
}

/** A tensor's data as JSON values (flat, row-major); 64-bit integers as numbers. */
export function tensorToJson(t: TensorValue): unknown[] {
  if (Array.isArray(t.data)) return t.data;
  if (t.datatype === 'BOOL') return Array.from(t.data as Uint8Array, (v) => v !== 0);
  if (t.datatype === 'FP16') return Array.from(t.data as Uint16Array, fromHalf);
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) return Array.from(t.data, Number);
  const d = t.data as Float32Array;
  const out: unknown[] = new Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number.isFinite(d[i]) ? d[i] : String(d[i]); // JSON has no NaN/Infinity
  return out;
}

/** A tensor's data as the binary data extension sends it. */
export function tensorToBinary(t: TensorValue): Buffer {
  if (Array.isArray(t.data)) {
    return Buffer.concat(t.data.flatMap((s) => {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      return [len, b];
    }));
  }
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Rows [from, to) of a tensor along its first dimension. */
export function sliceRows(t: TensorValue, from: number, to: number): TensorValue {
  const per = elementCount(t.shape.slice(1));
  return { datatype: t.datatype, shape: [to - from, ...t.shape.slice(1)], data: t.data.slice(from * per, to * per) as TensorData };
}

/** Tensors of one datatype and trailing shape stacked along the first dimension. */
export function concatRows(parts: TensorValue[]): TensorValue {
  if (parts.length === 1) return parts[0];
  const rows = parts.reduce((a, p) => a + p.shape[0], 0);
  const first = parts[0];
  const shape = [rows, ...first.shape.slice(1)];
  if (Array.isArray(first.data)) return { datatype: first.datatype, shape, data: parts.flatMap((p) => p.data as string[]) };
  const out = TYPES[first.datatype as Exclude<Datatype, 'BYTES'>].make(elementCount(shape));
  let at = 0;
  for (const p of parts) {
    (out as Float32Array).set(p.data as Float32Array, at);
    at += p.data.length;
  }
  return { datatype: first.datatype, shape, data: out };
}

// IEEE 754 half precision, for FP16 data given as JSON numbers.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = (mant | 0x800000) >> (1 - e);
    return sign | ((m + 0x1000) >> 13);
  }
  return sign | ((e << 10) + ((mant + 0x1000) >> 13));
}

function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (mant / 1024);
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

/** Whether a tensor's data is plain numbers, which JSON writes as they are. */
function plainNumbers(t: TensorValue): boolean {
  const d = t.data;
  return !Array.isArray(d) && t.datatype !== 'BOOL' && t.datatype !== 'FP16' && !(d instanceof BigInt64Array) && !(d instanceof BigUint64Array);
}

/**
 * The element texts of the last few tensors written: the answer and the prediction log write
 * the same outputs one after the other, and turning numbers into text is most of what writing
 * costs (a few recent entries, not a WeakMap: a lookup costs next to nothing). Found by the
 * data's identity: the server writes outputs, fresh from each run, once they are final.
 */
const recentTexts: { data: unknown; texts: string[] }[] = [];
const RECENT = 4;

function textsOf(d: Float64Array): string[] {
  for (const r of recentTexts) if (r.data === d) return r.texts;
  const texts = new Array<string>(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    texts[i] = Number.isFinite(v) ? `${v}` : `"${v}"`; // JSON has no NaN/Infinity: as tensorToJson has them
  }
  if (recentTexts.length === RECENT) recentTexts.shift();
  recentTexts.push({ data: d, texts });
  return texts;
}

/**
 * `JSON.stringify(tensorToJson(t))`, or of `tensorRows(t)` when `nested`, written straight from
 * the data: the answer and the prediction log spend most of their time on this, and building
 * the lists first doubles it.
 */
export function dataJson(t: TensorValue, nested: boolean): string {
  if (!plainNumbers(t)) return JSON.stringify(nested ? tensorRows(t) : tensorToJson(t));
  const texts = textsOf(t.data as Float64Array);
  if (!nested || t.shape.length < 2) return `[${texts.join(',')}]`;
  const dims = t.shape;
  let at = 0;
  const list = (depth: number): string => {
    const n = dims[depth];
    let s = '[';
    if (depth === dims.length - 1) for (let i = 0; i < n; i++) s += i ? `,${texts[at++]}` : texts[at++];
    else for (let i = 0; i < n; i++) s += i ? `,${list(depth + 1)}` : list(depth + 1);
    return `${s}]`;
  };
  return list(0);
}

/** Rows of a tensor as nested lists (row-major), for MLflow answers and the prediction log. */
export function tensorRows(t: TensorValue): unknown[] {
  const flat = tensorToJson(t);
  const nest = (data: unknown[], shape: number[]): unknown[] => {
    if (shape.length <= 1) return data;
    const per = data.length / shape[0];
    const out: unknown[] = [];
    for (let i = 0; i < shape[0]; i++) out.push(nest(data.slice(i * per, (i + 1) * per), shape.slice(1)));
    return out;
  };
  return t.shape.length === 0 ? flat : nest(flat, t.shape);
}
