import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import type { DeploymentSpec } from './deploymentLog';
import { deploymentSpec, type Deployments } from './deployments';
import { DEFAULT_PREDICTION_LOG } from './predictionLog';
import type { RoutesSpec } from './routes';
import type { ServerConfig } from './server';
import { SERVER_NODE_OPTIONS, SERVER_SCRIPT } from './supervisor';

const PORT = 8080;
const APP_DIR = '/srv';

export interface ExportOptions {
  /** Image the manifests run (default `<deployment>:latest`, as `docker build -t` would tag it). */
  image?: string;
  /** The server bundle (dist/modelServer.js) to copy into the image. */
  serverBundle?: string;
  /** Exports a model not deployed yet (e.g. for a host without node), with the deployment settings at their defaults. */
  model?: string;
}

function specOf(deployments: Deployments, name: string, model?: string): DeploymentSpec {
  return model ? deploymentSpec(name, model) : deployments.get(name).deployment.spec;
}

/** The deployment's server config as it runs in a container: all interfaces, any Host, no admin API, models under /srv/models. */
async function containerConfig(deployments: Deployments, name: string, model?: string): Promise<{ config: ServerConfig; files: Map<string, string> }> {
  const spec = specOf(deployments, name, model);
  const routes = await deployments.routes(name, model);
  const files = new Map<string, string>();
  const inImage = (file: string) => {
    const target = `${APP_DIR}/models/${path.basename(file)}`;
    files.set(file, target);
    return target;
  };
  const mapped: RoutesSpec = {
    ...routes,
    variants: routes.variants.map((v) => ({ ...v, file: inImage(v.file) })),
    ...(routes.shadow ? { shadow: { ...routes.shadow, file: inImage(routes.shadow.file) } } : {}),
  };
  return {
    config: {
      deployment: name, host: '0.0.0.0', port: PORT, adminToken: '', allowedHosts: ['*'], maxBodyBytes: spec.maxBodyBytes, threads: spec.threads,
      batching: spec.batching, processing: spec.processing,
      predictionLog: { ...DEFAULT_PREDICTION_LOG, sampleRate: spec.sampleRate, dir: `${APP_DIR}/predictions` },
      routes: mapped,
    },
    files,
  };
}

/**
 * `mlops export docker`: a build context with a Dockerfile (Node base image, onnxruntime-node
 * installed from npm, the server bundle, the model files, the config). Returns the files written.
 */
export async function exportDocker(deployments: Deployments, name: string, outDir: string, options: ExportOptions = {}): Promise<string[]> {
  const { config, files } = await containerConfig(deployments, name, options.model);
  const bundle = options.serverBundle ?? SERVER_SCRIPT;
  if (!fs.existsSync(bundle)) throw new Error(`The server bundle ${bundle} is missing; build it with: npm run build`);
  fs.mkdirSync(path.join(outDir, 'models'), { recursive: true });
  const written: string[] = [];
  const write = (rel: string, content: string | Buffer) => {
    fs.writeFileSync(path.join(outDir, rel), content);
    written.push(rel);
  };
  for (const [from, to] of files) write(path.posix.relative(APP_DIR, to), fs.readFileSync(from));
  write('modelServer.js', fs.readFileSync(bundle));
  write('config.json', JSON.stringify(config, null, 2) + '\n');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  write('Dockerfile', [
    `# Deployment "${name}" of MLOps Workbench: Open Inference Protocol v2 + /invocations + /metrics on port ${PORT}.`,
    'FROM node:20-bookworm-slim',
    `WORKDIR ${APP_DIR}`,
    `RUN npm install --omit=dev --no-audit --no-fund onnxruntime-node@${ortVersion} && npm cache clean --force`,
    'COPY modelServer.js config.json ./',
    'COPY models/ ./models/',
    `RUN mkdir -p ${APP_DIR}/predictions && chown node:node ${APP_DIR}/predictions`,
    'USER node',
    `EXPOSE ${PORT}`,
    `HEALTHCHECK CMD node -e "fetch('http://127.0.0.1:${PORT}/v2/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`,
    `CMD ${JSON.stringify(['node', ...SERVER_NODE_OPTIONS, 'modelServer.js', 'config.json'])}`,
    '',
  ].join('\n'));
  write('.dockerignore', 'predictions/\n');
  return written;
}

/**
 * A deployment's name as Kubernetes objects take it: a DNS-1035 label (lower-case letters,
 * digits and "-", starting with a letter, up to 63), which Services and KServe require.
 */
export function kubernetesName(deployment: string): string {
  const n = deployment.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return (/^[a-z]/.test(n) ? n : `m-${n}`).slice(0, 63).replace(/-+$/, '');
}

/** The Kubernetes objects of a deployment: Deployment, Service and a KServe InferenceService. */
export function kubernetesManifests(deployment: string, image: string, threads: number): Record<string, Record<string, unknown>> {
  const name = kubernetesName(deployment);
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'mlops-workbench' };
  const probe = (p: string) => ({ httpGet: { path: p, port: PORT }, periodSeconds: 5 });
  const container = {
    name: 'model-server', image, ports: [{ name: 'http', containerPort: PORT, protocol: 'TCP' }],
    readinessProbe: probe('/v2/health/ready'), livenessProbe: probe('/v2/health/live'),
    resources: { requests: { cpu: String(Math.max(1, threads)), memory: '192Mi' }, limits: { memory: '512Mi' } },
  };
  return {
    'deployment.yaml': {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels },
      spec: {
        replicas: 1, selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(PORT), 'prometheus.io/path': '/metrics' } },
          spec: { containers: [container] },
        },
      },
    },
    'service.yaml': {
      apiVersion: 'v1', kind: 'Service', metadata: { name, labels },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: PORT, protocol: 'TCP' }] },
    },
    'inferenceservice.yaml': {
      apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name, labels },
      spec: { predictor: { containers: [{ ...container, name: 'kserve-container', readinessProbe: undefined, livenessProbe: undefined }] } },
    },
  };
}

/** `mlops export k8s`: the manifests as YAML files. */
export function exportKubernetes(deployments: Deployments, name: string, outDir: string, options: ExportOptions = {}): string[] {
  const manifests = kubernetesManifests(name, options.image ?? `${name}:latest`, specOf(deployments, name, options.model).threads);
  fs.mkdirSync(outDir, { recursive: true });
  return Object.entries(manifests).map(([file, object]) => {
    fs.writeFileSync(path.join(outDir, file), stringify(JSON.parse(JSON.stringify(object))));
    return file;
  });
}
