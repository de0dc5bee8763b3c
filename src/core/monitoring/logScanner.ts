/**
 * A byte-level reader of prediction-log lines that looks only at the fields drift needs
 * (time, variant, latency, the input and output tensors) and turns numbers into doubles
 * without building the JSON objects: JSON.parse of every line was most of a window's cost
 * (docs/monitoring.md, "Speed"). Anything it cannot read is reported as a bad line, as a
 * JSON.parse failure would be.
 */

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d, OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e, ZERO = 0x30, NINE = 0x39;

/** Exact powers of ten a double holds: products and quotients with them round once (Clinger's fast path). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

const KEYS = ['time', 'latency_ms', 'variant', 'inputs', 'outputs'].map((k) => [k, Buffer.from(k)] as const);

/** What a byte is to `skip`: nothing (0: digits, commas…), a quote (1), an opening (2) or a closing bracket (3). */
const STRUCTURE = new Uint8Array(256);
STRUCTURE[QUOTE] = 1;
STRUCTURE[OPEN_OBJECT] = STRUCTURE[OPEN_ARRAY] = 2;
STRUCTURE[CLOSE_OBJECT] = STRUCTURE[CLOSE_ARRAY] = 3;

export class BadLine extends Error {}

/** The fields of one line; tensors as byte ranges of their `{…}` for `readTensors`. */
export interface ScannedLine {
  time?: number;
  variant?: string;
  latency?: number;
  inputs?: [number, number];
  outputs?: [number, number];
}

/** Receives one tensor's cells, row by row: a scalar row has one cell. */
export interface TensorSink {
  /** A tensor begins; returns whether to read it. */
  tensor(name: string, output: boolean): boolean;
  /** A row begins: a vector (`[…]`) or one scalar. */
  row(vector: boolean): void;
  cell(value: unknown): void;
  end(): void;
}

export class LineScanner {
  private b: Buffer = Buffer.alloc(0);
  private end = 0;
  pos = 0;

  /** Reads the top-level fields of the line b[start, end). */
  scan(b: Buffer, start: number, end: number): ScannedLine {
    this.b = b;
    this.end = end;
    this.pos = start;
    const out: ScannedLine = {};
    this.ws();
    this.expect(OPEN_OBJECT);
    this.ws();
    if (this.peek() === CLOSE_OBJECT) return out;
    for (;;) {
      this.ws();
      const [ks, ke] = this.stringRange();
      this.ws();
      this.expect(COLON);
      this.ws();
      switch (this.key(ks, ke)) {
        case 'time': out.time = this.numberOrSkip(); break;
        case 'latency_ms': out.latency = this.numberOrSkip(); break;
        case 'variant': out.variant = this.peek() === QUOTE ? this.string() : (this.skip(), undefined); break;
        case 'inputs': out.inputs = this.range(); break;
        case 'outputs': out.outputs = this.range(); break;
        default: this.skip();
      }
      this.ws();
      const c = this.next();
      if (c === CLOSE_OBJECT) break;
      if (c !== COMMA) throw new BadLine('expected , or }');
    }
    this.ws();
    if (this.pos !== end) throw new BadLine('text after the record');
    return out;
  }

  /** Walks `{"name": rows, …}` at b[range], handing each tensor's cells to the sink. */
  readTensors(range: [number, number], output: boolean, sink: TensorSink): void {
    this.pos = range[0];
    this.end = range[1];
    this.expect(OPEN_OBJECT);
    this.ws();
    if (this.peek() === CLOSE_OBJECT) return;
    for (;;) {
      this.ws();
      const name = this.string();
      this.ws();
      this.expect(COLON);
      this.ws();
      if (this.peek() === OPEN_ARRAY && sink.tensor(name, output)) {
        this.rows(sink);
        sink.end();
      } else {
        this.skip();
      }
      this.ws();
      const c = this.next();
      if (c === CLOSE_OBJECT) return;
      if (c !== COMMA) throw new BadLine('expected , or }');
    }
  }

  private rows(sink: TensorSink): void {
    this.expect(OPEN_ARRAY);
    this.ws();
    if (this.peek() === CLOSE_ARRAY) return void this.pos++;
    for (;;) {
      this.ws();
      const vector = this.peek() === OPEN_ARRAY;
      sink.row(vector);
      if (vector) {
        this.pos++;
        this.ws();
        if (this.peek() !== CLOSE_ARRAY) {
          for (;;) {
            this.ws();
            sink.cell(this.scalar());
            this.ws();
            const c = this.next();
            if (c === CLOSE_ARRAY) break;
            if (c !== COMMA) throw new BadLine('expected , or ]');
          }
        } else this.pos++;
      } else {
        sink.cell(this.scalar());
      }
      this.ws();
      const c = this.next();
      if (c === CLOSE_ARRAY) return;
      if (c !== COMMA) throw new BadLine('expected , or ]');
    }
  }

  /** A number, string, true/false/null; a nested value as JSON.parse reads it. */
  private scalar(): unknown {
    const c = this.peek();
    if (c === MINUS || (c >= ZERO && c <= NINE)) return this.number();
    if (c === QUOTE) return this.string();
    const start = this.pos;
    this.skip();
    try {
      return JSON.parse(this.b.toString('utf8', start, this.pos));
    } catch {
      throw new BadLine('unreadable value');
    }
  }

  private key(start: number, end: number): string | undefined {
    // Only the keys read here are told apart, byte by byte: no string is made for a key.
    for (const [name, bytes] of KEYS) if (bytes.length === end - start && this.b[start] === bytes[0] && this.same(start, bytes)) return name;
    return undefined;
  }

  private same(start: number, bytes: Buffer): boolean {
    for (let i = 1; i < bytes.length; i++) if (this.b[start + i] !== bytes[i]) return false;
    return true;
  }

  private numberOrSkip(): number | undefined {
    const c = this.peek();
    if (c === MINUS || (c >= ZERO && c <= NINE)) return this.number();
    this.skip();
    return undefined;
  }

  /** A JSON number as a double: exact digits within Clinger's fast path, else Number() of its text. */
  number(): number {
    const b = this.b, end = this.end, start = this.pos;
    let i = start, negative = false;
    if (b[i] === MINUS) {
      negative = true;
      i++;
    }
    let mantissa = 0, digits = 0, scale = 0, c = b[i];
    if (!(c >= ZERO && c <= NINE)) throw new BadLine('expected a number');
    for (; i < end && (c = b[i]) >= ZERO && c <= NINE; i++) {
      if (digits || c !== ZERO) digits++;
      mantissa = mantissa * 10 + (c - ZERO);
    }
    if (i < end && b[i] === DOT) {
      i++;
      if (!(b[i] >= ZERO && b[i] <= NINE)) throw new BadLine('expected digits after "."');
      for (; i < end && (c = b[i]) >= ZERO && c <= NINE; i++) {
        if (digits || c !== ZERO) digits++;
        mantissa = mantissa * 10 + (c - ZERO);
        scale--;
      }
    }
    let exact = digits <= 15;
    if (i < end && (b[i] | 0x20) === 0x65) {
      i++;
      let sign = 1, e = 0;
      if (b[i] === MINUS || b[i] === PLUS) sign = b[i++] === MINUS ? -1 : 1;
      if (!(b[i] >= ZERO && b[i] <= NINE)) throw new BadLine('expected an exponent');
      for (; i < end && (c = b[i]) >= ZERO && c <= NINE; i++) e = e * 10 + (c - ZERO);
      if (e > 400) exact = false;
      else scale += sign * e;
    }
    this.pos = i;
    if (!exact || scale < -22 || scale > 22) return Number(b.toString('latin1', start, i));
    const v = scale < 0 ? mantissa / POW10[-scale] : mantissa * POW10[scale];
    return negative ? -v : v;
  }

  private string(): string {
    const [s, e] = this.stringRange();
    const b = this.b;
    for (let i = s; i < e; i++) {
      if (b[i] === BACKSLASH) {
        try {
          return JSON.parse(b.toString('utf8', s - 1, e + 1)) as string;
        } catch {
          throw new BadLine('unreadable string');
        }
      }
    }
    return b.toString('utf8', s, e);
  }

  /** The bytes between a string's quotes; pos after the closing quote. */
  private stringRange(): [number, number] {
    this.expect(QUOTE);
    const b = this.b, start = this.pos;
    let i = start;
    for (;;) {
      // A byte loop: the log's strings are short, and Buffer.indexOf costs a native call each.
      while (i < this.end && b[i] !== QUOTE) i++;
      if (i >= this.end) throw new BadLine('a string does not end');
      let slashes = 0;
      for (let k = i - 1; k >= start && b[k] === BACKSLASH; k--) slashes++;
      if (slashes % 2 === 0) break;
      i++;
    }
    this.pos = i + 1;
    return [start, i];
  }

  /** The bytes of the value at pos (an object or array with what is inside it). */
  private range(): [number, number] {
    const start = this.pos;
    this.skip();
    return [start, this.pos];
  }

  /** Moves past one value of any kind. */
  private skip(): void {
    const b = this.b;
    const c = this.peek();
    if (c === QUOTE) return void this.stringRange();
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      let depth = 0;
      for (let i = this.pos; i < this.end; i++) {
        const kind = STRUCTURE[b[i]]; // one look-up for the common byte (a digit) instead of five comparisons
        if (kind === 0) continue;
        if (kind === 1) {
          this.pos = i;
          this.stringRange();
          i = this.pos - 1;
        } else if (kind === 2) depth++;
        else if (--depth === 0) {
          this.pos = i + 1;
          return;
        }
      }
      throw new BadLine('a value does not end');
    }
    let i = this.pos;
    while (i < this.end && b[i] !== COMMA && b[i] !== CLOSE_OBJECT && b[i] !== CLOSE_ARRAY && b[i] > 0x20) i++;
    if (i === this.pos) throw new BadLine('expected a value');
    this.pos = i;
  }

  private ws(): void {
    const b = this.b;
    while (this.pos < this.end && (b[this.pos] === 0x20 || b[this.pos] === 0x09 || b[this.pos] === 0x0d)) this.pos++;
  }

  private peek(): number {
    if (this.pos >= this.end) throw new BadLine('the line ends early');
    return this.b[this.pos];
  }

  private next(): number {
    const c = this.peek();
    this.pos++;
    return c;
  }

  private expect(c: number): void {
    if (this.next() !== c) throw new BadLine(`expected ${String.fromCharCode(c)}`);
  }
}
