/**
 * A fast path for infer request bodies. JSON.parse of large nested number lists (and flattening
 * them) cost most of a many-row request's time; this reads each input's numeric `data` list from
 * the body's bytes straight into one Float64Array, building no JS arrays. Everything else in the
 * body goes through JSON.parse, value by value.
 *
 * It accepts only what JSON.parse accepts and yields the same values: a `data` list holding
 * anything but numbers in evenly nested lists is parsed by JSON.parse, and a body it does not
 * handle (escapes in a key, "__proto__", anything malformed) makes `parseInferBody` return
 * undefined, so that the caller parses it with JSON.parse and reports JSON.parse's error.
 */

const TAB = 0x09, LF = 0x0a, CR = 0x0d, SPACE = 0x20, QUOTE = 0x22, COMMA = 0x2c, MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e;
const ZERO = 0x30, NINE = 0x39, COLON = 0x3a, LBRACKET = 0x5b, BACKSLASH = 0x5c, RBRACKET = 0x5d, LOWER_E = 0x65, UPPER_E = 0x45, LBRACE = 0x7b, RBRACE = 0x7d;

/** 10^0 … 10^22: exact doubles, so m·10^e for m ≤ 2^53 is one correctly rounded operation (Clinger's fast path). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const EXACT_MANTISSA = 2 ** 53;
/** A bound on the relative error of an approximate value (m accumulated past 2^53, or |e| > 22). */
const SLACK = 2 ** -40;
/** Significant digits beyond which a value is re-read exactly, whatever its use. */
const MAX_APPROX_DIGITS = 40;

/** Thrown inside the scanner for a body it leaves to JSON.parse. */
const UNHANDLED = Symbol('unhandled');

/** A numeric `data` list read from a body: values row-major, and its nesting. */
export class NumericData {
  constructor(
    private readonly source: Buffer,
    /** Every value; those listed as approximate are within a relative 2^-40 of the exact one. */
    private readonly values: Float64Array,
    /** Lengths of the nested lists, outermost first ([n] for a flat list). */
    readonly dims: readonly number[],
    /**
     * The byte offsets where each value's text starts in `source`, then where each ends, then
     * the indices of the approximate values (in one array, beside `values` in one buffer).
     */
    private readonly marks: Int32Array,
    /** The list's own byte span, brackets included. */
    private readonly span: readonly [number, number],
    /** Whether the list's text has no line break (so it can go into a JSONL line as it is). */
    private readonly oneLine: boolean,
  ) {}

  get length(): number {
    return this.values.length;
  }

  /** The value JSON.parse would have read for element i. */
  private exact(i: number): number {
    return Number(this.source.toString('latin1', this.start(i), this.end(i)));
  }

  private start(i: number): number {
    return this.marks[i];
  }

  private end(i: number): number {
    return this.marks[this.values.length + i];
  }

  /** As FP32, each value rounded as JSON.parse then a Float32Array store would round it. */
  float32(): Float32Array {
    const out = new Float32Array(this.values);
    for (let j = 2 * this.values.length; j < this.marks.length; j++) {
      const i = this.marks[j];
      const v = this.values[i];
      const f = out[i];
      // Rounding to float32 is monotonic: when both ends of the error interval round alike, so does the exact value.
      if (Math.fround(v * (1 - SLACK)) !== f || Math.fround(v * (1 + SLACK)) !== f) out[i] = this.exact(i);
    }
    return out;
  }

  /** As doubles, exactly as JSON.parse reads them. */
  float64(): Float64Array {
    const out = new Float64Array(this.values);
    for (let j = 2 * this.values.length; j < this.marks.length; j++) out[this.marks[j]] = this.exact(this.marks[j]);
    return out;
  }

  /** The nested lists JSON.parse would have built, for the general (and error-reporting) path. */
  toJson(): unknown[] {
    const flat = Array.from(this.float64());
    const nest = (at: number, depth: number): unknown[] => {
      if (depth === this.dims.length - 1) return flat.slice(at, at + this.dims[depth]);
      const per = this.dims.slice(depth + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.dims[depth] }, (_, i) => nest(at + i * per, depth + 1));
    };
    return nest(0, 0);
  }

  /**
   * The values as JSON rows nested by `shape`, in the client's own number text (what the
   * prediction log keeps), or undefined when that text does not split into those rows cleanly.
   */
  rowsText(shape: readonly number[]): Buffer | undefined {
    const n = this.values.length;
    const width = shape[shape.length - 1];
    if (!this.oneLine || shape.length === 0 || !(width > 0) || n === 0 || n !== shape.reduce((a, b) => a * b, 1)) return undefined;
    // Nested as the shape says: the list's own text, as it is.
    if (this.dims.length === shape.length && this.dims.every((d, i) => d === shape[i])) return this.source.subarray(this.span[0], this.span[1]);
    // Rows of `width` values never straddle the client's own innermost lists when those are a multiple of it.
    if (this.dims.length > 1 && this.dims[this.dims.length - 1] % width !== 0) return undefined;
    const parts: Buffer[] = [];
    const nest = (depth: number, at: number): void => {
      parts.push(OPEN);
      if (depth === shape.length - 1) parts.push(this.source.subarray(this.start(at), this.end(at + width - 1)));
      else {
        const per = shape.slice(depth + 1).reduce((a, b) => a * b, 1);
        for (let i = 0; i < shape[depth]; i++) {
          if (i) parts.push(SEPARATOR);
          nest(depth + 1, at + i * per);
        }
      }
      parts.push(CLOSE);
    };
    nest(0, 0);
    return Buffer.concat(parts);
  }
}

const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');
const SEPARATOR = Buffer.from(',');

/**
 * An infer body (`{"inputs": [{…, "data": […]}], …}`) as JSON.parse would read it, except that
 * each input's `data` of evenly nested numbers is a NumericData; undefined for a body to leave to JSON.parse.
 */
export function parseInferBody(body: Buffer): unknown {
  const s = new Scanner(body);
  try {
    const member = (key: string) => (s.peek() !== LBRACKET ? s.value() : key === 'data' ? s.numeric() : key === 'shape' ? s.array(() => s.value()) : s.value());
    const input = () => (s.peek() === LBRACE ? s.object(member) : s.value());
    const root = s.object((key) => (key === 'inputs' && s.peek() === LBRACKET ? s.array(input) : s.value()));
    s.space();
    if (s.at !== body.length) return undefined;
    return root;
  } catch {
    return undefined; // UNHANDLED, or JSON.parse refusing a value: the caller's JSON.parse says what is wrong
  }
}

// Scratch for the numeric list being read, grown as needed and shared: parsing is synchronous,
// and each NumericData keeps its own copy.
let values = new Float64Array(1024);
let starts = new Int32Array(1024);
let ends = new Int32Array(1024);
let approximate = new Int32Array(1024);

function grow(): void {
  const next = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
    const bigger = make(a.length * 2);
    bigger.set(a);
    return bigger;
  };
  values = next(values, (k) => new Float64Array(k));
  starts = next(starts, (k) => new Int32Array(k));
  ends = next(ends, (k) => new Int32Array(k));
  approximate = next(approximate, (k) => new Int32Array(k));
}

class Scanner {
  at = 0;

  constructor(private readonly b: Buffer) {}

  space(): void {
    let c = this.b[this.at];
    while (c === SPACE || c === LF || c === CR || c === TAB) c = this.b[++this.at];
  }

  peek(): number | undefined {
    this.space();
    return this.b[this.at];
  }

  private expect(c: number): void {
    if (this.peek() !== c) throw UNHANDLED;
    this.at++;
  }

  /** An object, each member's value read by `member` (called with the scanner at the value). */
  object(member: (key: string) => unknown): Record<string, unknown> {
    this.expect(LBRACE);
    const out: Record<string, unknown> = {};
    if (this.peek() === RBRACE) {
      this.at++;
      return out;
    }
    for (;;) {
      const key = this.key();
      if (key === '__proto__') throw UNHANDLED; // JSON.parse makes it an own property; assignment would not
      this.expect(COLON);
      out[key] = member(key);
      const c = this.peek();
      this.at++;
      if (c === RBRACE) return out;
      if (c !== COMMA) throw UNHANDLED;
    }
  }

  array(element: () => unknown): unknown[] {
    this.expect(LBRACKET);
    const out: unknown[] = [];
    if (this.peek() === RBRACKET) {
      this.at++;
      return out;
    }
    for (;;) {
      out.push(element());
      const c = this.peek();
      this.at++;
      if (c === RBRACKET) return out;
      if (c !== COMMA) throw UNHANDLED;
    }
  }

  /** A key without escapes or control characters. */
  private key(): string {
    if (this.peek() !== QUOTE) throw UNHANDLED;
    const start = ++this.at;
    for (let c = this.b[this.at]; c !== QUOTE; c = this.b[++this.at]) {
      if (c === undefined || c === BACKSLASH || c < SPACE) throw UNHANDLED;
    }
    return this.b.toString('utf8', start, this.at++);
  }

  /**
   * Any JSON value, read by JSON.parse once its extent is found; a string without escapes or a
   * small non-negative integer (names, datatypes, shapes) is read here, without a JSON.parse.
   */
  value(): unknown {
    this.space();
    const b = this.b;
    const start = this.at;
    const c = b[this.at];
    if (c === QUOTE) {
      let end = start + 1;
      for (let d = b[end]; d !== QUOTE; d = b[++end]) {
        if (d === undefined || d === BACKSLASH || d < SPACE) break;
      }
      if (b[end] === QUOTE) {
        this.at = end + 1;
        return b.toString('utf8', start + 1, end);
      }
    } else if (c !== undefined && c >= ZERO && c <= NINE) {
      let v = 0;
      let end = start;
      for (let d = c; d !== undefined && d >= ZERO && d <= NINE; d = b[++end]) v = v * 10 + (d - ZERO);
      const next = b[end];
      // Not "01", nor a fraction or exponent, nor past exact integers: those go to JSON.parse.
      if ((c !== ZERO || end === start + 1) && end - start <= 15 && next !== DOT && next !== LOWER_E && next !== UPPER_E) {
        this.at = end;
        return v;
      }
    }
    if (c === QUOTE) this.skipString();
    else if (c === LBRACE || c === LBRACKET) {
      let depth = 0;
      do {
        const d = b[this.at];
        if (d === undefined) throw UNHANDLED;
        if (d === QUOTE) this.skipString();
        else {
          if (d === LBRACE || d === LBRACKET) depth++;
          else if (d === RBRACE || d === RBRACKET) depth--;
          this.at++;
        }
      } while (depth > 0);
    } else {
      for (let d = c; d !== undefined && d !== COMMA && d !== RBRACE && d !== RBRACKET && d !== SPACE && d !== LF && d !== CR && d !== TAB; d = b[++this.at]);
    }
    return JSON.parse(b.toString('utf8', start, this.at));
  }

  private skipString(): void {
    for (let c = this.b[++this.at]; c !== QUOTE; c = this.b[++this.at]) {
      if (c === undefined) throw UNHANDLED;
      if (c === BACKSLASH) this.at++;
    }
    this.at++;
  }

  /** A list of evenly nested numbers as NumericData; anything else in it: JSON.parse's value. */
  numeric(): unknown {
    const start = this.at;
    const read = this.readNumeric();
    if (read) return read;
    this.at = start;
    return this.value();
  }

  private readNumeric(): NumericData | undefined {
    const b = this.b;
    const start = this.at;
    let at = start;
    const { length } = b;
    const view = new DataView(b.buffer, b.byteOffset, length);
    const dims: number[] = [];
    /** Per depth: whether its lists hold numbers (1) or lists (2); unset while unknown. */
    const kinds: number[] = [];
    /** Elements so far of the list being read (`count`), and of each list around it. */
    const counts: number[] = [];
    let count = 0;
    let k = 0;
    let n = 0;
    let depth = -1;
    let oneLine = true;
    /** The depth whose lists hold numbers, once known. */
    let numberDepth = -1;
    // The shared scratch, in locals (read once, not at every value).
    let [vs, ss, es, inexact] = [values, starts, ends, approximate];
    // Past the end of the body, c reads 0: no character JSON allows there.
    let c = b[at] | 0;
    for (;;) {
      // At the start of an element, or of the first element of a list just opened.
      if (c === LBRACKET) {
        if (depth >= 0 && !this.kind(kinds, depth, 2)) return undefined;
        if (depth >= 0) counts[depth] = count;
        depth++;
        count = 0;
        c = b[++at] | 0;
        while (c === SPACE || c === LF || c === CR || c === TAB) {
          if (c !== SPACE && c !== TAB) oneLine = false;
          c = b[++at] | 0;
        }
        if (c !== RBRACKET) continue;
      } else {
        if (depth !== numberDepth) {
          if (depth < 0 || !this.kind(kinds, depth, 1)) return undefined;
          numberDepth = depth;
        }
        if (n === vs.length) {
          grow();
          [vs, ss, es, inexact] = [values, starts, ends, approximate];
        }
        ss[n] = at;
        // -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?, as JSON has it
        let negative = false;
        if (c === MINUS) {
          negative = true;
          c = b[++at] | 0;
        }
        let m = 0;
        let digits = 0;
        let exponent = 0;
        if (c === ZERO) c = b[++at] | 0;
        else if (c > ZERO && c <= NINE) {
          do {
            m = m * 10 + (c - ZERO);
            digits++;
            c = b[++at] | 0;
          } while (c >= ZERO && c <= NINE);
        } else return undefined;
        if (c === DOT) {
          c = b[++at] | 0;
          if (c < ZERO || c > NINE) return undefined;
          if (digits === 0) {
            // Leading zeros of a fraction are not significant digits.
            while (c === ZERO) {
              exponent--;
              c = b[++at] | 0;
            }
          }
          // Four digits at a time while four bytes are digits (one 32-bit read, a few integer steps).
          while (at + 4 <= length) {
            const w = view.getUint32(at, true);
            if ((w & 0xf0f0f0f0) !== 0x30303030 || ((w + 0x06060606) & 0xf0f0f0f0) !== 0x30303030) break;
            const pairs = ((w - 0x30303030) * 10 + ((w - 0x30303030) >>> 8)) & 0x00ff00ff;
            m = m * 10000 + (pairs & 0xff) * 100 + (pairs >>> 16);
            digits += 4;
            exponent -= 4;
            at += 4;
          }
          c = b[at] | 0;
          while (c >= ZERO && c <= NINE) {
            m = m * 10 + (c - ZERO);
            digits++;
            exponent--;
            c = b[++at] | 0;
          }
        }
        if (c === LOWER_E || c === UPPER_E) {
          c = b[++at] | 0;
          let sign = 1;
          if (c === MINUS || c === PLUS) {
            if (c === MINUS) sign = -1;
            c = b[++at] | 0;
          }
          if (c < ZERO || c > NINE) return undefined;
          let e = 0;
          do {
            if (e < 1e6) e = e * 10 + (c - ZERO);
            c = b[++at] | 0;
          } while (c >= ZERO && c <= NINE);
          exponent += sign * e;
        }
        es[n] = at;
        let v: number;
        if (m === 0) v = 0;
        else if (digits > MAX_APPROX_DIGITS) v = NaN; // re-read exactly, whatever its use
        else if (exponent >= -22 && exponent <= 22) v = exponent < 0 ? m / POW10[-exponent] : m * POW10[exponent];
        else v = m * 10 ** exponent; // slow, and rare
        // Exact when m and 10^|e| are exact doubles: one correctly rounded operation.
        if (m !== 0 && (m >= EXACT_MANTISSA || exponent < -22 || exponent > 22)) inexact[k++] = n;
        vs[n++] = negative ? -v : v;
        count++;
      }
      // After an element: close lists, then a comma or the end.
      for (;;) {
        while (c === SPACE || c === LF || c === CR || c === TAB) {
          if (c !== SPACE && c !== TAB) oneLine = false;
          c = b[++at] | 0;
        }
        if (c === COMMA) {
          c = b[++at] | 0;
          while (c === SPACE || c === LF || c === CR || c === TAB) {
            if (c !== SPACE && c !== TAB) oneLine = false;
            c = b[++at] | 0;
          }
          if (c !== LBRACKET && c !== MINUS && !(c >= ZERO && c <= NINE)) return undefined;
          break;
        }
        if (c !== RBRACKET) return undefined;
        // Evenly nested: every list at one depth has the same length.
        if (dims[depth] === undefined) dims[depth] = count;
        else if (dims[depth] !== count) return undefined;
        c = b[++at] | 0;
        if (depth-- === 0) {
          this.at = at;
          // One backing store for both arrays: each costs a native allocation the collector must track and free.
          const store = new ArrayBuffer(8 * n + 4 * (2 * n + k));
          const copy = new Float64Array(store, 0, n);
          const marks = new Int32Array(store, 8 * n, 2 * n + k);
          copy.set(vs.subarray(0, n));
          marks.set(ss.subarray(0, n));
          marks.set(es.subarray(0, n), n);
          marks.set(inexact.subarray(0, k), 2 * n);
          return new NumericData(b, copy, dims, marks, [start, at], oneLine);
        }
        count = counts[depth] + 1;
      }
    }
  }

  /** Records what lists at `depth` hold; false when that differs from their siblings. */
  private kind(kinds: number[], depth: number, kind: number): boolean {
    kinds[depth] ??= kind;
    return kinds[depth] === kind;
  }
}
