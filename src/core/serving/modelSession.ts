import * as path from 'node:path';
import { datatypeOfOrt, elementCount, ortTypeOf, tensorFromJson, type Datatype, type TensorData, type TensorValue } from './tensors';

/** An input or output as the Open Inference Protocol describes it: variable dims are -1. */
export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  shape: number[];
}

interface OrtTensor { type: string; dims: readonly number[]; data: unknown }
interface OrtMetadata { name: string; isTensor?: boolean; type?: string; shape?: (number | string)[] }
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: readonly OrtMetadata[];
  outputMetadata?: readonly OrtMetadata[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  InferenceSession: { create(file: string, options: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;
}

let ort: Ort | undefined;
function loadOrt(): Ort {
  // Loaded on first use: a large native addon, external to the bundles (esbuild.mjs).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (ort ??= require('onnxruntime-node') as Ort);
}

function metadata(names: readonly string[], meta: readonly OrtMetadata[] | undefined, file: string): TensorMetadata[] {
  return names.map((name, i) => {
    const m = meta?.[i];
    const datatype = m?.type ? datatypeOfOrt(m.type) : undefined;
    if (!datatype) throw new Error(`${path.basename(file)}: tensor "${name}" has type ${m?.type ?? 'unknown'}, which the server cannot exchange (not a tensor of an ONNX element type).`);
    return { name, datatype, shape: (m?.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  });
}

/** One loaded model version: an onnxruntime session and its signature. */
export class ModelSession {
  /** Requests using this session right now; a drained session (0) can be released. */
  inFlight = 0;

  private constructor(
    private readonly session: OrtSession,
    readonly inputs: TensorMetadata[],
    readonly outputs: TensorMetadata[],
  ) {}

  /** Loads a model file; `threads` is onnxruntime's intra-op pool size (0: its own default, one per core). */
  static async load(file: string, threads: number): Promise<ModelSession> {
    const session = await loadOrt().InferenceSession.create(file, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    try {
      return new ModelSession(session, metadata(session.inputNames, session.inputMetadata, file), metadata(session.outputNames, session.outputMetadata, file));
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** Whether every input and output varies along its first dimension, so requests can be stacked into one batch. */
  get batchable(): boolean {
    return [...this.inputs, ...this.outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
  }

  async run(feeds: Record<string, TensorValue>): Promise<Record<string, TensorValue>> {
    const { Tensor } = loadOrt();
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const name in feeds) {
      const t = feeds[name];
      ortFeeds[name] = new Tensor(ortTypeOf(t.datatype), t.data, t.shape);
    }
    const results = await this.session.run(ortFeeds);
    const out: Record<string, TensorValue> = {};
    for (const meta of this.outputs) {
      const r = results[meta.name];
      out[meta.name] = { datatype: meta.datatype, shape: [...r.dims], data: r.data as TensorData };
    }
    return out;
  }

  /** One inference on zeros (variable dims as 1), so the first real request does not pay for warm-up. */
  async warm(): Promise<void> {
    const feeds: Record<string, TensorValue> = {};
    for (const input of this.inputs) {
      const shape = input.shape.map((d) => (d < 0 ? 1 : d));
      const zeros = Array<string | number>(elementCount(shape)).fill(input.datatype === 'BYTES' ? '' : 0);
      feeds[input.name] = tensorFromJson(input.datatype, shape, zeros, input.name);
    }
    await this.run(feeds);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
