import { RequestError, preview } from './errors';
import type { TensorMetadata } from './modelSession';
import { tensorFromJson, type TensorValue } from './tensors';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The shape nested lists describe (their first elements' lengths). */
function shapeOf(data: unknown): number[] {
  const shape: number[] = [];
  let v = data;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

function tensorFor(meta: TensorMetadata, data: unknown, what: string): TensorValue {
  if (!Array.isArray(data)) throw new RequestError(400, `${what}: expected a list of rows for input "${meta.name}" (${meta.datatype} ${JSON.stringify(meta.shape)}), got ${preview(data)}.`);
  let shape = shapeOf(data);
  // A single-feature model may be given one value per row.
  if (shape.length === meta.shape.length - 1 && meta.shape[meta.shape.length - 1] === 1) shape = [...shape, 1];
  if (shape.length !== meta.shape.length || shape.some((d, i) => meta.shape[i] >= 0 && d !== meta.shape[i])) {
    throw new RequestError(400, `${what}: input "${meta.name}" expects shape ${JSON.stringify(meta.shape)} (-1: any size), got rows of shape ${JSON.stringify(shape)}.`);
  }
  return tensorFromJson(meta.datatype, shape, data, `${what}: input "${meta.name}"`);
}

function only(inputs: TensorMetadata[], format: string): TensorMetadata {
  if (inputs.length !== 1) throw new RequestError(400, `${format} fits a model with one input; this one has ${inputs.map((i) => `"${i.name}"`).join(', ')}: send "inputs" as {name: rows}.`);
  return inputs[0];
}

/**
 * MLflow's scoring format for `POST /invocations` (dataframe_split, dataframe_records,
 * instances, inputs), so MLflow clients work unchanged.
 */
export function parseInvocation(body: unknown, inputs: TensorMetadata[]): { feeds: Record<string, TensorValue>; params: Record<string, unknown> } {
  if (!isObject(body)) throw new RequestError(400, `/invocations takes a JSON object with one of dataframe_split, dataframe_records, instances or inputs; got ${preview(body)}.`);
  const formats = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'].filter((k) => k in body);
  if (formats.length !== 1) {
    throw new RequestError(400, formats.length ? `Send one of ${formats.join(', ')}, not several.` : `The body needs one of dataframe_split, dataframe_records, instances or inputs; it has ${Object.keys(body).map((k) => `"${k}"`).join(', ') || 'no keys'}.`);
  }
  const params = isObject(body.params) ? body.params : {};
  const format = formats[0];
  const value = body[format];
  if (format === 'dataframe_split') {
    if (!isObject(value) || !Array.isArray(value.data)) throw new RequestError(400, `dataframe_split needs {"columns": […], "data": [[…], …]}; got ${preview(value)}.`);
    const meta = only(inputs, format);
    return { feeds: { [meta.name]: tensorFor(meta, value.data, format) }, params };
  }
  if (format === 'dataframe_records') {
    if (!Array.isArray(value) || !value.every(isObject)) throw new RequestError(400, `dataframe_records needs a list of {column: value} records; got ${preview(value)}.`);
    const meta = only(inputs, format);
    const columns = value.length ? Object.keys(value[0] as object) : [];
    const rows = (value as Record<string, unknown>[]).map((r, i) => columns.map((c) => {
      if (!(c in r)) throw new RequestError(400, `dataframe_records: record ${i} has no column "${c}" (record 0 has ${columns.length} columns).`);
      return r[c];
    }));
    return { feeds: { [meta.name]: tensorFor(meta, rows, format) }, params };
  }
  // instances / inputs: rows for a one-input model, or {input name: rows}.
  if (isObject(value)) {
    const feeds: Record<string, TensorValue> = {};
    for (const meta of inputs) {
      if (!(meta.name in value)) throw new RequestError(400, `${format}: missing input "${meta.name}" (${meta.datatype} ${JSON.stringify(meta.shape)}).`);
      feeds[meta.name] = tensorFor(meta, value[meta.name], format);
    }
    const unknown = Object.keys(value).filter((k) => !inputs.some((m) => m.name === k));
    if (unknown.length) throw new RequestError(400, `${format}: the model has no input ${unknown.map((k) => `"${k}"`).join(', ')}; its inputs: ${inputs.map((m) => `"${m.name}"`).join(', ')}.`);
    return { feeds, params };
  }
  if (Array.isArray(value) && value.length && value.every(isObject) && inputs.length > 1) {
    // instances as a list of {input: row} objects
    return parseInvocation({ [format]: Object.fromEntries(inputs.map((m) => [m.name, (value as Record<string, unknown>[]).map((r) => r[m.name])])) }, inputs);
  }
  const meta = only(inputs, format);
  return { feeds: { [meta.name]: tensorFor(meta, value, format) }, params };
}
