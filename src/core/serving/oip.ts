import { RequestError, preview } from './errors';
import type { TensorMetadata } from './modelSession';
import { parseInferBody } from './numericJson';
import { dataJson, isDatatype, tensorFromBinary, tensorFromJson, tensorToBinary, type TensorValue } from './tensors';

/** An Open Inference Protocol infer request, checked against the model's inputs. */
export interface InferRequest {
  id?: string;
  parameters: Record<string, unknown>;
  feeds: Record<string, TensorValue>;
  /** Requested outputs (all when undefined), each with whether it goes back as binary data. */
  outputs?: { name: string; binary: boolean }[];
  /** Binary for every output not named in `outputs` (`parameters.binary_data_output`). */
  binaryOutput: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits a body using the binary data extension: JSON header of the given length, then tensor bytes. */
export function splitBinaryBody(body: Buffer, headerLength: string | undefined): { json: Buffer; binary?: Buffer } {
  if (headerLength === undefined) return { json: body };
  const n = Number(headerLength);
  if (!/^\d+$/.test(headerLength) || n > body.length) {
    throw new RequestError(400, `Inference-Header-Content-Length is ${preview(headerLength)} but the body has ${body.length} bytes; it must be the length of the JSON part.`);
  }
  return { json: body.subarray(0, n), binary: body.subarray(n) };
}

export function parseJson(text: Buffer): unknown {
  try {
    return JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw new RequestError(400, `The body is not valid JSON (${(err as Error).message}); send application/json.`);
  }
}

/** An infer body: numeric `data` read straight from its bytes when it can be, else by JSON.parse. */
export function parseInferJson(body: Buffer): unknown {
  return parseInferBody(body) ?? parseJson(body);
}

function checkShape(meta: TensorMetadata, shape: unknown, what: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RequestError(400, `${what}: "shape" must be a list of non-negative integers, not ${preview(shape)}.`);
  }
  if (shape.length !== meta.shape.length || shape.some((d, i) => meta.shape[i] >= 0 && d !== meta.shape[i])) {
    throw new RequestError(400, `${what}: expected shape ${JSON.stringify(meta.shape)} (-1: any size), got ${JSON.stringify(shape)}.`);
  }
  if (shape.reduce((a: number, b: number) => a * b, 1) > 1 << 26) throw new RequestError(400, `${what}: shape ${JSON.stringify(shape)} is too large (over 64M elements).`);
  return shape as number[];
}

/** Checks an infer body against the model's inputs and builds its tensors. */
export function parseInferRequest(body: unknown, binary: Buffer | undefined, inputs: TensorMetadata[], outputs: TensorMetadata[]): InferRequest {
  if (!isObject(body)) throw new RequestError(400, `An infer request is a JSON object with "inputs", not ${preview(body)}.`);
  if (!Array.isArray(body.inputs)) throw new RequestError(400, `An infer request needs "inputs": a list of {name, shape, datatype, data}; got ${preview(body.inputs)}.`);
  if (body.id !== undefined && typeof body.id !== 'string') throw new RequestError(400, `"id" must be a string, not ${preview(body.id)}.`);
  const parameters = body.parameters === undefined ? {} : body.parameters;
  if (!isObject(parameters)) throw new RequestError(400, `"parameters" must be an object, not ${preview(parameters)}.`);
  const feeds: Record<string, TensorValue> = {};
  let binaryAt = 0;
  for (const [i, input] of (body.inputs as unknown[]).entries()) {
    if (!isObject(input)) throw new RequestError(400, `inputs[${i}] must be an object {name, shape, datatype, data}, not ${preview(input)}.`);
    const meta = inputs.find((m) => m.name === input.name);
    if (!meta) throw new RequestError(400, `inputs[${i}]: the model has no input ${preview(input.name)}; its inputs: ${inputs.map((m) => `"${m.name}" ${m.datatype} ${JSON.stringify(m.shape)}`).join(', ')}.`);
    const what = `input "${meta.name}"`;
    if (feeds[meta.name]) throw new RequestError(400, `${what} is given twice.`);
    if (!isDatatype(input.datatype)) throw new RequestError(400, `${what}: unknown datatype ${preview(input.datatype)}; expected ${meta.datatype}.`);
    if (input.datatype !== meta.datatype) throw new RequestError(400, `${what}: expected datatype ${meta.datatype}, got ${input.datatype}.`);
    const shape = checkShape(meta, input.shape, what);
    const params = input.parameters === undefined ? {} : input.parameters;
    if (!isObject(params)) throw new RequestError(400, `${what}: "parameters" must be an object.`);
    if (params.binary_data_size !== undefined) {
      const size = params.binary_data_size;
      if (!binary) throw new RequestError(400, `${what} has binary_data_size but the request has no Inference-Header-Content-Length header.`);
      if (!Number.isInteger(size) || (size as number) < 0 || binaryAt + (size as number) > binary.length) {
        throw new RequestError(400, `${what}: binary_data_size ${preview(size)} runs past the ${binary.length - binaryAt} bytes left in the body.`);
      }
      feeds[meta.name] = tensorFromBinary(meta.datatype, shape, binary.subarray(binaryAt, binaryAt + (size as number)), what);
      binaryAt += size as number;
    } else {
      feeds[meta.name] = tensorFromJson(meta.datatype, shape, input.data, what);
    }
  }
  const missing = inputs.filter((m) => !feeds[m.name]);
  if (missing.length) throw new RequestError(400, `Missing input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m.name}" (${m.datatype} ${JSON.stringify(m.shape)})`).join(', ')}.`);
  const rows = new Set(Object.values(feeds).map((t) => t.shape[0]));
  if (rows.size > 1) throw new RequestError(400, `All inputs must have the same number of rows (first dimension); got ${[...rows].join(' and ')}.`);
  let selected: InferRequest['outputs'];
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw new RequestError(400, `"outputs" must be a list of {name}, not ${preview(body.outputs)}.`);
    selected = body.outputs.map((o, i) => {
      if (!isObject(o) || typeof o.name !== 'string') throw new RequestError(400, `outputs[${i}] must be {"name": …}, not ${preview(o)}.`);
      if (!outputs.some((m) => m.name === o.name)) throw new RequestError(400, `outputs[${i}]: the model has no output ${preview(o.name)}; its outputs: ${outputs.map((m) => `"${m.name}"`).join(', ')}.`);
      return { name: o.name, binary: isObject(o.parameters) && o.parameters.binary_data === true };
    });
  }
  return { id: body.id as string | undefined, parameters, feeds, outputs: selected, binaryOutput: parameters.binary_data_output === true };
}

/** The infer response: JSON, or JSON header + binary tensor data when any output asked for it. Written as JSON.stringify would, without building the objects. */
export function inferResponse(model: string, version: string, req: InferRequest, results: Record<string, TensorValue>): { body: string | Buffer; headerLength?: number } {
  const chosen = req.outputs ?? Object.keys(results).map((name) => ({ name, binary: req.binaryOutput }));
  const chunks: Buffer[] = [];
  let outputs = '';
  for (const { name, binary } of chosen) {
    const t = results[name];
    let data: string;
    if (binary) {
      const bytes = tensorToBinary(t);
      chunks.push(bytes);
      data = `"parameters":{"binary_data_size":${bytes.length}}`;
    } else data = `"data":${dataJson(t, false)}`;
    outputs += `${outputs ? ',' : ''}{"name":${JSON.stringify(name)},"datatype":"${t.datatype}","shape":${JSON.stringify(t.shape)},${data}}`;
  }
  const text = `{"model_name":${JSON.stringify(model)},"model_version":${JSON.stringify(version)}${req.id !== undefined ? `,"id":${JSON.stringify(req.id)}` : ''},"outputs":[${outputs}]}`;
  // A string goes out in one write with the headers; a Buffer would be a second one.
  if (!chunks.length) return { body: text };
  const json = Buffer.from(text);
  return { body: Buffer.concat([json, ...chunks]), headerLength: json.length };
}
