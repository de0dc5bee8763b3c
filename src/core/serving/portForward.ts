import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { spawnForward } from '../compute/shell';
import type { SshTarget } from '../compute/targets';

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000];
/** A forward that stayed up this long has its backoff reset. */
const STABLE_MS = 60_000;
/** How long a started ssh may take before what is behind it answers. */
const READY_MS = 60_000;

/**
 * 127.0.0.1:`localPort` here forwarded to 127.0.0.1:`remotePort` on an ssh host, kept up: when
 * ssh exits (the connection dropped, the host rebooted) it starts again after a growing delay,
 * on the same local port, so clients keep their URL. `onChange` hears each drop and each reconnect.
 */
export class PortForward {
  private child: ChildProcess | undefined;
  private stopped = false;
  private backoff = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: SshTarget,
    readonly localPort: number,
    readonly remotePort: number,
    private readonly onChange: (event: { up: false; reason: string; retryMs: number } | { up: true }) => void,
    /** Says whether what is behind the forward answers (the server's readiness through it). */
    private readonly ready: () => Promise<boolean>,
  ) {}

  /** The ssh process carrying the forward now. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the forward; resolves once `ready` answers through it, rejects with ssh's reason when it cannot come up. */
  start(): Promise<void> {
    return this.connect(true);
  }

  private connect(first: boolean): Promise<void> {
    const child = spawnForward(this.target, this.localPort, this.remotePort);
    this.child = child;
    const started = Date.now();
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    let up = false;
    const exited = new Promise<string>((resolve) => {
      child.on('error', (err) => resolve(err.message));
      child.on('exit', (code, signal) => resolve(stderr.trim().split('\n').filter(Boolean).pop() ?? `ssh exited (${signal ?? `code ${code}`})`));
    });
    void exited.then((reason) => {
      if (this.child !== child || this.stopped || !up) return;
      if (Date.now() - started > STABLE_MS) this.backoff = 0;
      this.retry(reason);
    });
    const coming = (async () => {
      for (;;) {
        const done = await Promise.race([exited.then((reason) => ({ reason })), new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
        if (done) throw new Error(done.reason);
        if (this.stopped) return;
        if (await this.ready()) return;
        if (Date.now() - started > READY_MS) {
          child.kill();
          throw new Error(`nothing answered through the forward to port ${this.remotePort} within ${READY_MS / 1000} s`);
        }
      }
    })();
    return coming.then(() => {
      up = true;
      if (!first) this.onChange({ up: true });
    }, (err: Error) => {
      if (first || this.stopped) throw err;
      this.retry(err.message);
    });
  }

  private retry(reason: string): void {
    const delay = BACKOFF_MS[Math.min(this.backoff++, BACKOFF_MS.length - 1)];
    this.onChange({ up: false, reason, retryMs: delay });
    this.timer = setTimeout(() => void this.connect(false).catch(() => {}), delay);
  }

  /** Ends the forward; resolves once its ssh has exited, so the local port is free again. */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill();
    return exited;
  }
}

/** A port free on 127.0.0.1 now (for a forward's side here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}
