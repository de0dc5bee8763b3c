// What the workspace and the host side of a remote deployment (deploymentHost.ts) agree on.

/** The server config as shipped, paths relative to the deployment's folder; routes.json, when there, replaces its routes (a later switch). */
export const DEPLOYMENT_FILE = 'deployment.json';
export const ROUTES_FILE = 'routes.json';
export const PREDICTIONS_DIR = 'predictions';

/** What `start` prints: the server's port on the host and the process group to stop. */
export interface HostStart { ok: boolean; port?: number; pid?: number; group?: number; error?: string }

/** One prediction log file's new whole lines, as `pull` frames them: a JSON header line, then each file's bytes in order. */
export interface PulledFile { name: string; ino: number; from: number; bytes: number }
