import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MlopsLayout } from '../workspace/layout';
import { currentUser } from '../workspace/user';
import type { BatchOptions } from './batcher';
import type { Processing } from './processing';
import { appendRecord } from '../workspace/appendLog';

/** What the user asked for when deploying; the log keeps it so a restart rebuilds the same server. */
export interface DeploymentSpec {
  name: string;
  /** What to serve: `model:version`, `model@alias` (followed when it moves), `model` (latest), or an .onnx file. */
  target: string;
  host: string;
  /** 0: a free port, kept across restarts once chosen. */
  port: number;
  batching: BatchOptions;
  /** Share of predictions written to the prediction log, 0–1. */
  sampleRate: number;
  processing: Processing;
  threads: number;
  maxBodyBytes: number;
  /** Whether clients need a bearer token (the token itself lives in status.json, not in the log). */
  token: boolean;
  /** The ssh target (mlops.yaml `targets:`) the server runs on, forwarded back to 127.0.0.1 here; absent: this machine. */
  remote?: string;
}

/** Where a remote deployment's server runs now: what stopping it needs even when the process that started it is gone. */
export interface RemotePlacement {
  target: string;
  /** The host's own name (as it reports it). */
  host: string;
  /** The deployment's folder on the host. */
  dir: string;
  /** The process group on the host (its supervisor and server). */
  group: number;
  /** The server process on the host. */
  pid: number;
  /** The server's port on the host's 127.0.0.1. */
  port: number;
}

export interface SplitSpec { target: string; weight: number; stickyKey?: string }

/**
 * Who started a deployment: the editor (it comes back when the editor reopens), a CLI in a
 * terminal (it ends with it), or a detached `mlops serve` (it outlives both).
 */
export type DeploymentOwner = 'editor' | 'cli' | 'detached';

type Stamp = { name: string; time: number; user: string };
export type DeploymentEvent =
  | ({ type: 'deploy'; spec: DeploymentSpec; owner?: DeploymentOwner } & Stamp)
  | ({ type: 'switch'; target: string; reason?: string } & Stamp)
  | ({ type: 'split'; split: SplitSpec | null } & Stamp)
  | ({ type: 'shadow'; target: string | null } & Stamp)
  | ({ type: 'placed'; placement: RemotePlacement } & Stamp)
  | ({ type: 'stop' } & Stamp);

/** A deployment as the log folds it: the spec, what it serves now, and whether it should be running. */
export interface Deployment {
  spec: DeploymentSpec;
  /** The primary target now (the spec's, or the last switch's). */
  target: string;
  split?: SplitSpec;
  shadow?: string;
  state: 'running' | 'stopped';
  /** Who started it (unknown for deployments from before this was recorded). */
  owner?: DeploymentOwner;
  /** A remote deployment's last start on its host. */
  placement?: RemotePlacement;
  created: number;
  updated: number;
}

/**
 * `.mlops/deployments.jsonl`: every deploy, switch, split, shadow, remote placement and stop, append only (the
 * truth), folded into deployments on read.
 */
export class DeploymentLog {
  constructor(private readonly layout: MlopsLayout) {}

  get file(): string {
    return path.join(this.layout.dir, 'deployments.jsonl');
  }

  append(event: DeploymentEvent): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    appendRecord(this.file, JSON.stringify(event) + '\n', { sync: true });
  }

  stamp(name: string): Stamp {
    return { name, time: Date.now(), user: currentUser() };
  }

  fold(): Map<string, Deployment> {
    const out = new Map<string, Deployment>();
    let text = '';
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return out;
    }
    for (const line of text.split('\n')) {
      let e: DeploymentEvent;
      try {
        if (!line.trim()) continue;
        e = JSON.parse(line) as DeploymentEvent;
      } catch {
        continue; // a torn last line from a crash mid-write: the entries before it stand
      }
      if (e.type === 'deploy') {
        out.set(e.name, { spec: e.spec, target: e.spec.target, state: 'running', ...(e.owner ? { owner: e.owner } : {}), created: e.time, updated: e.time });
        continue;
      }
      const d = out.get(e.name);
      if (!d) continue;
      d.updated = e.time;
      if (e.type === 'switch') {
        d.target = e.target;
        d.split = undefined;
      } else if (e.type === 'split') d.split = e.split ?? undefined;
      else if (e.type === 'shadow') d.shadow = e.target ?? undefined;
      else if (e.type === 'placed') d.placement = e.placement;
      else if (e.type === 'stop') d.state = 'stopped';
    }
    return out;
  }
}
