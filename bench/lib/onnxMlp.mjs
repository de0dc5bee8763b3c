// Writes a small ONNX model for the benchmarks: a multilayer perceptron of dense layers (Gemm, then
// Relu between layers), float32, seeded random weights, a variable batch dimension. Encoded here as
// protobuf by hand (a few fields of onnx.proto: ModelProto, GraphProto, NodeProto, TensorProto,
// ValueInfoProto), so that no ONNX tooling is needed to make it.
import * as fs from 'node:fs';

const varint = (n) => {
  const out = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
};
/** A length-delimited field (wire type 2): a message, string or bytes. */
const bytes = (no, payload) => Buffer.concat([varint((no << 3) | 2), varint(payload.length), payload]);
const string = (no, s) => bytes(no, Buffer.from(s));
/** A varint field (wire type 0). */
const int = (no, n) => Buffer.concat([varint(no << 3), varint(n)]);
const message = (no, ...fields) => bytes(no, Buffer.concat(fields));

const FLOAT = 1; // TensorProto.DataType

function tensor(name, dims, data) {
  return message(5, ...dims.map((d) => int(1, d)), int(2, FLOAT), string(8, name), bytes(9, Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
}

/** A float tensor's ValueInfoProto; a string dim is symbolic (any size). */
function valueInfo(no, name, dims) {
  const dim = (d) => message(1, typeof d === 'string' ? string(2, d) : int(1, d));
  return message(no, string(1, name), message(2, message(1, int(1, FLOAT), message(2, ...dims.map(dim)))));
}

const node = (op, inputs, outputs) => message(1, ...inputs.map((i) => string(1, i)), ...outputs.map((o) => string(2, o)), string(3, outputs[0]), string(4, op));

/** mulberry32: the same weights on every run. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes to `file` an MLP with layer widths `widths` (e.g. [64, 1024, 1024, 2]): input "input"
 * [batch, widths[0]], output "output" [batch, widths.at(-1)], opset 13.
 */
export function writeMlp(file, widths, seed = 1) {
  const next = random(seed);
  const nodes = [];
  const weights = [];
  let x = 'input';
  for (let l = 0; l + 1 < widths.length; l++) {
    const [from, to] = [widths[l], widths[l + 1]];
    const scale = Math.sqrt(6 / from); // He-uniform: activations neither vanish nor blow up
    weights.push(tensor(`w${l}`, [from, to], Float32Array.from({ length: from * to }, () => (next() * 2 - 1) * scale)));
    weights.push(tensor(`b${l}`, [to], Float32Array.from({ length: to }, () => (next() * 2 - 1) * 0.1)));
    const last = l + 2 === widths.length;
    const y = last ? 'output' : `h${l}`;
    nodes.push(node('Gemm', [x, `w${l}`, `b${l}`], [last ? y : `${y}_linear`]));
    if (!last) nodes.push(node('Relu', [`${y}_linear`], [y]));
    x = y;
  }
  const graph = message(7, ...nodes, string(2, 'mlp'), ...weights, valueInfo(11, 'input', ['batch', widths[0]]), valueInfo(12, 'output', ['batch', widths.at(-1)]));
  const model = Buffer.concat([int(1, 7), string(2, 'mlops-workbench bench'), graph, message(8, string(1, ''), int(2, 13))]);
  fs.writeFileSync(file, model);
}
