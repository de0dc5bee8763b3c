import { spawn, type ChildProcess } from 'node:child_process';
import { targetWorkdir, type SlurmTarget, type SshTarget, type Target } from './targets';

/** A target that takes shell commands: this machine, or a host over the system ssh client. */
export type ShellTarget = Extract<Target, { type: 'local' | 'ssh' }>;

/** Where a target's shell commands run: the ssh host itself, or a Slurm target's submit host (here without `host`). */
export function shellOf(t: SshTarget | SlurmTarget): ShellTarget {
  if (t.type === 'ssh') return t;
  return t.host ? { name: t.name, type: 'ssh', host: t.host, config: t.config } : { name: t.name, type: 'local' };
}

export interface ShellResult { code: number | null; stdout: string; stderr: string }

/** Quotes a value for a POSIX shell. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The command line that runs `script` under sh on the target. */
export function shellCommand(target: ShellTarget, script: string): { command: string; args: string[] } {
  if (target.type === 'local') return { command: 'sh', args: ['-c', script] };
  return { command: 'ssh', args: [...sshOptions(target), '-o', 'ServerAliveInterval=15', '--', target.host, `sh -c ${shQuote(script)}`] };
}

/** The ssh options every connection to the target uses. BatchMode: never wait for a password prompt nobody sees; ssh exits 255 with the reason. */
function sshOptions(target: Extract<ShellTarget, { type: 'ssh' }>): string[] {
  return [...(target.config ? ['-F', target.config] : []), '-o', 'BatchMode=yes'];
}

/**
 * `ssh -N -L`: 127.0.0.1:`localPort` here reaches 127.0.0.1:`remotePort` on the host. It exits
 * when the forward cannot be set up or the connection drops (missed keepalives), so its owner can restart it.
 */
export function spawnForward(target: Extract<ShellTarget, { type: 'ssh' }>, localPort: number, remotePort: number): ChildProcess {
  return spawn('ssh', [
    ...sshOptions(target), '-o', 'ExitOnForwardFailure=yes', '-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=3',
    '-N', '-L', `127.0.0.1:${localPort}:127.0.0.1:${remotePort}`, '--', target.host,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Starts `script` on the target; the caller reads and writes its stdio. */
export function spawnOnTarget(target: ShellTarget, script: string): ChildProcess {
  const { command, args } = shellCommand(target, script);
  return spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The target's workdir (job folders and the host's cache) as a shell word: `~/x` as "$HOME"/'x', so the remote shell expands the home folder and nothing else. */
export function workdirWord(target: SshTarget | SlurmTarget): string {
  const dir = targetWorkdir(target);
  return dir === '~' ? '"$HOME"' : dir.startsWith('~/') ? `"$HOME"/${shQuote(dir.slice(2))}` : shQuote(dir);
}

/** Runs `script` on the target and collects its output; `input` goes to its stdin. */
export function runOnTarget(target: ShellTarget, script: string, input?: NodeJS.ReadableStream | string): Promise<ShellResult> {
  return collectOutput(spawnOnTarget(target, script), input);
}

/**
 * Feeds `input` to a started command and collects its output; a command that cannot start
 * resolves with code null and why (`missing` for one not installed).
 */
export async function collectOutput(child: ChildProcess, input?: NodeJS.ReadableStream | string, missing?: string): Promise<ShellResult> {
  const r = await collectBytes(child, input, missing);
  return { ...r, stdout: r.stdout.toString('utf8') };
}

/** collectOutput() with stdout as bytes, for output that counts bytes (framed files). */
export function collectBytes(child: ChildProcess, input?: NodeJS.ReadableStream | string, missing?: string): Promise<Omit<ShellResult, 'stdout'> & { stdout: Buffer }> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.stdin!.on('error', () => undefined); // the far side may exit before reading everything
    if (typeof input === 'string') child.stdin!.end(input);
    else if (input) input.pipe(child.stdin!);
    else child.stdin!.end();
    const done = (code: number | null, spawnError?: string): void => resolve({
      code, stdout: Buffer.concat(out), stderr: spawnError ?? Buffer.concat(err).toString('utf8'),
    });
    child.on('error', (e: NodeJS.ErrnoException) => done(null, e.code === 'ENOENT' ? missing ?? `"${e.path}" is not installed on this machine.` : e.message));
    child.on('close', (code) => done(code));
  });
}

/** Says why a command on the target failed, naming the host for ssh's own failures (exit 255). */
export function targetFailure(target: ShellTarget, result: ShellResult, what: string): Error {
  const reason = result.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${result.code}`;
  if (target.type === 'ssh' && (result.code === 255 || result.code === null)) {
    return new Error(`Cannot reach target "${target.name}" (${target.host}): ${reason}. Check that "ssh ${target.host}" works in a terminal without a password prompt.`);
  }
  return new Error(`${what} failed on target "${target.name}": ${reason}`);
}
