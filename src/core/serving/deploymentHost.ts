// The host side of a remote deployment (bundled as dist/deploymentHost.js and shipped beside
// dist/modelServer.js into the deployment's folder on an ssh host; see remoteDeployment.ts).
// It needs nothing there but node. Run in that folder:
//   start RUNTIME   detaches `serve` (its own process group) and prints how it came up, as JSON
//   serve           the same Supervisor as on this machine: restarts a crashed server on its port
//   stop            ends the process group `start` recorded
//   pull OFFSETS    prints the prediction log lines past OFFSETS (JSON: inode → bytes already had)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEPLOYMENT_FILE, PREDICTIONS_DIR, ROUTES_FILE, type HostStart, type PulledFile } from './hostFiles';
import type { RoutesSpec } from './routes';
import type { ServerConfig } from './server';
import { readStatus, Supervisor } from './supervisor';

const PID_FILE = 'pid';
const START_TIMEOUT_MS = 120_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ends the process group `start` recorded (TERM, then KILL after a grace period); quiet when there is none. */
async function stop(): Promise<void> {
  let group = 0;
  try {
    group = Number(fs.readFileSync(PID_FILE, 'utf8'));
  } catch {
    return;
  }
  // -group: any process of the group, so the server its supervisor started is waited for too.
  if (group > 0 && alive(-group)) {
    process.kill(-group, 'SIGTERM');
    for (const deadline = Date.now() + 10_000; alive(-group) && Date.now() < deadline;) await sleep(100);
    if (alive(-group)) process.kill(-group, 'SIGKILL');
    for (const deadline = Date.now() + 5_000; alive(-group) && Date.now() < deadline;) await sleep(50);
  }
  fs.rmSync(PID_FILE, { force: true });
}

async function start(runtime: string): Promise<HostStart> {
  await stop(); // a server left from an earlier start (its owner died) gives way to this one
  fs.chmodSync(DEPLOYMENT_FILE, 0o600); // it holds the admin token
  fs.rmSync('status.json', { force: true });
  fs.rmSync(ROUTES_FILE, { force: true }); // a fresh start serves what deployment.json says (the workspace's routes now)
  const log = fs.openSync('supervisor.log', 'a');
  const child = spawn(process.execPath, [__filename, 'serve'], {
    detached: true, stdio: ['ignore', log, log], env: { ...process.env, NODE_PATH: path.join(runtime, 'node_modules') },
  });
  fs.closeSync(log);
  child.unref();
  fs.writeFileSync(PID_FILE, String(child.pid));
  let exited = false;
  child.once('exit', () => { exited = true; });
  for (const deadline = Date.now() + START_TIMEOUT_MS; Date.now() < deadline; await sleep(100)) {
    const s = readStatus('.');
    if (s && s.supervisor === child.pid && s.state === 'running') return { ok: true, port: s.port, pid: s.pid, group: child.pid };
    if (s && s.supervisor === child.pid && s.state === 'failed') {
      await stop();
      return { ok: false, error: s.lastError };
    }
    if (exited) {
      fs.rmSync(PID_FILE, { force: true });
      return { ok: false, error: fs.readFileSync('supervisor.log', 'utf8').trim().split('\n').slice(-3).join('\n') };
    }
  }
  await stop();
  return { ok: false, error: `the server did not start within ${START_TIMEOUT_MS / 1000} s; see server.log` };
}

async function serve(): Promise<void> {
  const config = (): ServerConfig => {
    const base = JSON.parse(fs.readFileSync(DEPLOYMENT_FILE, 'utf8')) as ServerConfig;
    return fs.existsSync(ROUTES_FILE) ? { ...base, routes: JSON.parse(fs.readFileSync(ROUTES_FILE, 'utf8')) as RoutesSpec } : base;
  };
  const supervisor = new Supervisor(process.cwd(), async (port) => ({ ...config(), port }));
  const end = () => void supervisor.stop().then(() => process.exit(0));
  process.on('SIGTERM', end);
  process.on('SIGINT', end);
  process.on('SIGHUP', () => {}); // the ssh session that started it ending is no reason to stop
  await supervisor.start(0).catch(() => process.exit(3));
}

/** Writes the log files' whole lines past what the workspace has, each file by inode, so a rotation (a rename) is followed. */
function pull(had: Record<string, number>): void {
  const names = fs.existsSync(PREDICTIONS_DIR) ? fs.readdirSync(PREDICTIONS_DIR).filter((n) => n.endsWith('.jsonl')) : [];
  const files: PulledFile[] = [];
  const parts: Buffer[] = [];
  for (const name of names) {
    const file = path.join(PREDICTIONS_DIR, name);
    const { ino, size } = fs.statSync(file);
    const from = Math.min(had[ino] ?? 0, size);
    let data = Buffer.alloc(0);
    if (size > from) {
      const fd = fs.openSync(file, 'r');
      data = Buffer.alloc(size - from);
      fs.readSync(fd, data, 0, data.length, from);
      fs.closeSync(fd);
      data = data.subarray(0, data.lastIndexOf(0x0a) + 1); // a line still being written waits for the next pull
    }
    files.push({ name, ino, from, bytes: data.length });
    parts.push(data);
  }
  process.stdout.write(JSON.stringify(files) + '\n');
  for (const p of parts) process.stdout.write(p);
}

async function main(): Promise<void> {
  const [command, arg] = process.argv.slice(2);
  if (command === 'start') process.stdout.write(JSON.stringify(await start(arg)) + '\n');
  else if (command === 'serve') await serve();
  else if (command === 'stop') await stop();
  else if (command === 'pull') pull(JSON.parse(arg ?? '{}') as Record<string, number>);
  else {
    process.stderr.write(`unknown command "${command}": start RUNTIME | serve | stop | pull OFFSETS\n`);
    process.exit(2);
  }
}

void main();
