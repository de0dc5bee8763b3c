// The MLflow-compatible tracking endpoint (docs/mlflow.md): MLflow's REST API 2.0 over the
// workspace's tracking engine, and an importer of MLflow's file store.
import type { Tracking } from '../tracking/tracking';
import { MlflowBackend, type MlflowBackendOptions } from './backend';
import { MlflowServer, newToken, type ServerLimits } from './server';

export { MlflowBackend, type MlflowBackendOptions } from './backend';
export { MlflowError, type MlflowErrorCode } from './errors';
export { importMlruns, type ImportProgress, type ImportResult } from './importMlruns';
export { compareRuns, matchRun, parseOrderBy, parseRunFilter, type FilterNode, type OrderKey, type RunView } from '../query/searchFilter';
export { MlflowServer, newToken } from './server';

export interface MlflowEndpoint {
  backend: MlflowBackend;
  server: MlflowServer;
  uri: string;
  token: string;
  /** The two variables MLflow clients read. */
  env: { MLFLOW_TRACKING_URI: string; MLFLOW_TRACKING_TOKEN: string };
  stop(): Promise<void>;
}

export interface StartOptions extends MlflowBackendOptions {
  /** 0 or absent: a free port. */
  port?: number;
  /** Absent: a new random token. */
  token?: string;
  limits?: Partial<ServerLimits>;
}

/** Starts the endpoint over `tracking` on 127.0.0.1. */
export async function startMlflowServer(tracking: Tracking, options: StartOptions = {}): Promise<MlflowEndpoint> {
  const backend = new MlflowBackend(tracking, options);
  for (const w of backend.experiments.warnings) options.log?.(`${backend.experiments.file}: ${w}; skipped.`);
  const token = options.token || newToken();
  const server = new MlflowServer(backend, { token, port: options.port ?? 0, limits: options.limits, log: options.log });
  await server.start();
  const uri = server.uri;
  return {
    backend, server, uri, token,
    env: { MLFLOW_TRACKING_URI: uri, MLFLOW_TRACKING_TOKEN: token },
    stop: async () => {
      await server.stop();
      backend.dispose(); // index what is pending (it is in the run logs already)
    },
  };
}
