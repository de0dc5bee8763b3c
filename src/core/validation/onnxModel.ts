import * as path from 'node:path';

interface OrtTensor { data: Float32Array | Float64Array | BigInt64Array | Int32Array; dims: readonly number[] }
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: readonly { shape?: readonly (number | string)[] }[];
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  InferenceSession: { create(model: string | Uint8Array, options?: { intraOpNumThreads?: number }): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

/**
 * Batches small enough to stay in cache: on the fixture MLP, 4,096-row batches on one
 * intra-op thread ran 1M rows about 5× faster than 256k-row batches or two threads.
 */
const BATCH = 4096;

/** An ONNX model with one float input [rows, features] and one output [rows, width], run in batches. */
export class OnnxModel {
  private constructor(private readonly ort: Ort, private readonly session: OrtSession, readonly file: string) {}

  /** `file` names the model in messages; `bytes`, when given, is its content (e.g. read from a snapshot). */
  static async load(file: string, bytes?: Uint8Array): Promise<OnnxModel> {
    // Loaded only when needed: it is a large native addon.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as Ort;
    try {
      return new OnnxModel(ort, await ort.InferenceSession.create(bytes ?? file, { intraOpNumThreads: 1 }), file);
    } catch (err) {
      throw new Error(`onnxruntime could not load ${path.basename(file)}: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  /** Features the model expects, when its input shape says (undefined for a variable width). */
  get featureCount(): number | undefined {
    const last = this.session.inputMetadata?.[0]?.shape?.at(-1);
    return typeof last === 'number' ? last : undefined;
  }

  /** Runs rows (row-major, `features` wide) through the model; returns the first output row-major and its width. */
  async predict(x: Float32Array, features: number): Promise<{ output: Float32Array; width: number }> {
    const rows = x.length / features;
    let output: Float32Array | undefined;
    let width = 0;
    for (let start = 0; start < rows; start += BATCH) {
      const n = Math.min(BATCH, rows - start);
      const feeds = { [this.session.inputNames[0]]: new this.ort.Tensor('float32', x.subarray(start * features, (start + n) * features), [n, features]) };
      const result = (await this.session.run(feeds))[this.session.outputNames[0]];
      if (!output) {
        width = result.dims.length > 1 ? result.dims[result.dims.length - 1] : 1;
        output = new Float32Array(rows * width);
      }
      output.set(result.data instanceof BigInt64Array ? Float32Array.from(result.data, Number) : result.data, start * width);
    }
    return { output: output ?? new Float32Array(0), width };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
