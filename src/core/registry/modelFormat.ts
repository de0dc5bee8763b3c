import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TensorSpec { name: string; type: string; shape: (number | string)[] }

/** What kind of model a file or folder holds; ONNX models also say their inputs and outputs. */
export interface ModelFormat {
  framework: string;
  format: string;
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
  /** Why inputs/outputs are missing, when the file could not be read as what its name says. */
  problem?: string;
}

const BY_EXTENSION: Record<string, [framework: string, format: string]> = {
  '.onnx': ['onnx', 'onnx'],
  '.pt': ['pytorch', 'torch-save'],
  '.pth': ['pytorch', 'torch-save'],
  '.safetensors': ['safetensors', 'safetensors'],
  '.pkl': ['python', 'pickle'],
  '.pickle': ['python', 'pickle'],
  '.joblib': ['scikit-learn', 'joblib'],
  '.h5': ['keras', 'hdf5'],
  '.keras': ['keras', 'keras'],
  '.json': ['custom', 'json'],
  '.txt': ['custom', 'text'],
};

interface OrtMetadata { name: string; isTensor?: boolean; type?: string; shape?: (number | string)[] }
interface OrtSession { inputNames: string[]; outputNames: string[]; inputMetadata?: OrtMetadata[]; outputMetadata?: OrtMetadata[]; release(): Promise<void> }

/** Reads an ONNX file's signature with onnxruntime-node (loaded only when needed: it is a large native addon). */
async function onnxSignature(file: string): Promise<Pick<ModelFormat, 'inputs' | 'outputs' | 'problem'>> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as { InferenceSession: { create(p: string): Promise<OrtSession> } };
    const session = await ort.InferenceSession.create(file);
    const spec = (names: string[], meta?: OrtMetadata[]): TensorSpec[] =>
      names.map((name, i) => ({ name, type: meta?.[i]?.type ?? 'unknown', shape: meta?.[i]?.shape ?? [] }));
    const result = { inputs: spec(session.inputNames, session.inputMetadata), outputs: spec(session.outputNames, session.outputMetadata) };
    await session.release();
    return result;
  } catch (err) {
    return { problem: `onnxruntime could not load ${path.basename(file)}: ${(err as Error).message.split('\n')[0]}` };
  }
}

export async function detectModelFormat(target: string): Promise<ModelFormat> {
  const stat = fs.statSync(target);
  if (stat.isDirectory()) {
    const names = fs.readdirSync(target);
    if (names.includes('saved_model.pb')) return { framework: 'tensorflow', format: 'saved_model' };
    if (names.includes('MLmodel')) return { framework: 'mlflow', format: 'mlflow-model' };
    if (names.includes('config.json') && names.some((n) => n.endsWith('.safetensors') || n.endsWith('.bin'))) return { framework: 'transformers', format: 'huggingface' };
    const onnx = names.filter((n) => n.endsWith('.onnx'));
    if (onnx.length === 1) return { framework: 'onnx', format: 'onnx', ...(await onnxSignature(path.join(target, onnx[0]))) };
    return { framework: 'custom', format: 'folder' };
  }
  const [framework, format] = BY_EXTENSION[path.extname(target).toLowerCase()] ?? ['custom', 'file'];
  if (format === 'onnx') return { framework, format, ...(await onnxSignature(target)) };
  return { framework, format };
}
