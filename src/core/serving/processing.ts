import * as fs from 'node:fs';
import { RequestError } from './errors';
import type { TensorMetadata } from './modelSession';
import type { TensorValue } from './tensors';

/**
 * Pre/post-processing declared with a deployment, so clients send raw features and get
 * readable answers: standardise an input with the training mean/std, softmax an output,
 * name each row's most likely class.
 */
export interface Processing {
  /** (x - mean) / std over the input's last dimension; `input` defaults to the model's first. */
  standardize?: { input?: string; mean: number[]; std: number[] };
  /** Softmax over the last dimension of `output` (default: the model's first output). */
  softmax?: { output?: string };
  /** Adds a BYTES output `label`: the name of each row's highest-scoring class of `output`. */
  labels?: { output?: string; names: string[] };
}

/** Reads a two-row CSV (row 1 mean, row 2 std), as training scripts save their normalisation. */
export function readNormalisation(file: string): { mean: number[]; std: number[] } {
  const rows = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim()).map((l) => l.split(',').map(Number));
  if (rows.length !== 2 || rows[0].length !== rows[1].length || rows.flat().some((v) => !Number.isFinite(v))) {
    throw new Error(`${file}: expected two rows of numbers of equal length (mean, then std).`);
  }
  return { mean: rows[0], std: rows[1] };
}

/** Checks the processing against the model it will wrap; the message names what to fix. */
export function checkProcessing(p: Processing, inputs: TensorMetadata[], outputs: TensorMetadata[]): void {
  if (p.standardize) {
    const { mean, std } = p.standardize;
    const input = inputs.find((i) => i.name === (p.standardize!.input ?? inputs[0]?.name));
    if (!input) throw new Error(`standardize: the model has no input "${p.standardize.input}"; it has ${inputs.map((i) => i.name).join(', ')}.`);
    if (input.datatype !== 'FP32' && input.datatype !== 'FP64') throw new Error(`standardize: input "${input.name}" is ${input.datatype}, not a float tensor.`);
    const width = input.shape[input.shape.length - 1];
    if (mean.length !== std.length || (width > 0 && mean.length !== width)) {
      throw new Error(`standardize: input "${input.name}" has ${width} features but mean has ${mean.length} and std ${std.length} values.`);
    }
    if (std.some((s) => !(s > 0))) throw new Error('standardize: every std value must be above 0.');
  }
  for (const [what, name] of [['softmax', p.softmax?.output], ['labels', p.labels?.output]] as const) {
    if (name !== undefined && !outputs.some((o) => o.name === name)) throw new Error(`${what}: the model has no output "${name}"; it has ${outputs.map((o) => o.name).join(', ')}.`);
  }
}

/** Standardises the request's features in place (on a copy the request owns). */
export function preprocess(p: Processing, feeds: Record<string, TensorValue>, firstInput: string): void {
  if (!p.standardize) return;
  const t = feeds[p.standardize.input ?? firstInput];
  if (!t) return;
  const { mean, std } = p.standardize;
  const width = mean.length;
  if (t.shape[t.shape.length - 1] !== width) throw new RequestError(400, `input "${p.standardize.input ?? firstInput}" has shape ${JSON.stringify(t.shape)}; it must have ${width} features in its last dimension.`);
  const data = t.data as Float32Array;
  for (let i = 0; i < data.length; i++) data[i] = (data[i] - mean[i % width]) / std[i % width];
}

/** Softmax and class names on a result, after the model ran. */
export function postprocess(p: Processing, outputs: Record<string, TensorValue>, firstOutput: string): void {
  if (p.softmax) {
    const t = outputs[p.softmax.output ?? firstOutput];
    const width = t.shape[t.shape.length - 1];
    const d = t.data as Float32Array;
    for (let row = 0; row < d.length; row += width) {
      let max = -Infinity;
      for (let j = 0; j < width; j++) max = Math.max(max, d[row + j]);
      let sum = 0;
      for (let j = 0; j < width; j++) sum += d[row + j] = Math.exp(d[row + j] - max);
      for (let j = 0; j < width; j++) d[row + j] /= sum;
    }
  }
  if (p.labels) {
    const t = outputs[p.labels.output ?? firstOutput];
    const width = t.shape[t.shape.length - 1];
    const d = t.data as Float32Array;
    const names: string[] = [];
    for (let row = 0; row < d.length; row += width) {
      let best = 0;
      for (let j = 1; j < width; j++) if (d[row + j] > d[row + best]) best = j;
      names.push(p.labels.names[best] ?? String(best));
    }
    outputs.label = { datatype: 'BYTES', shape: [names.length], data: names };
  }
}
