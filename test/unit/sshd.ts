import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SshTarget } from '../../src/core/compute/targets';
import { freePort } from '../../src/core/serving/portForward';
import { isProcessAlive } from '../../src/core/workspace/processes';

/** What a real remote host needs and nothing more: no node, no rsync on its PATH. */
const REMOTE_TOOLS = ['sh', 'tar', 'python3', 'mkdir', 'uname', 'cat', 'sleep'];

export interface TestSshd {
  /** An ssh target for this server (its own ssh config file, host key checking as a user would have it). */
  target(name?: string): SshTarget;
  /** That target as an entry under `targets:` of mlops.yaml (its lines, each ended). */
  entry(name?: string): string;
  /** The folder where remote jobs are made. */
  workdir: string;
  configFile: string;
  stop(): Promise<void>;
}

function which(tool: string): string {
  return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
}

/**
 * A real OpenSSH server on 127.0.0.1 with a temp host key, an authorized key and a bare PATH for
 * sessions; `extraTools` (name → file) are added to that PATH.
 */
export async function startSshd(extraTools: Record<string, string> = {}): Promise<TestSshd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-sshd-'));
  const bin = path.join(dir, 'bin');
  const workdir = path.join(dir, 'remote-runs');
  fs.mkdirSync(bin);
  fs.mkdirSync(workdir);
  fs.mkdirSync(path.join(dir, 'home'));
  for (const tool of REMOTE_TOOLS) fs.symlinkSync(tool === 'python3' ? '/usr/bin/python3' : which(tool), path.join(bin, tool));
  for (const [tool, file] of Object.entries(extraTools)) fs.symlinkSync(file, path.join(bin, tool));
  for (const key of ['host_key', 'user_key']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, key)]);
  fs.copyFileSync(path.join(dir, 'user_key.pub'), path.join(dir, 'authorized_keys'));
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const sshdConfig = path.join(dir, 'sshd_config');
  fs.writeFileSync(sshdConfig, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${dir}/host_key`, `PidFile ${dir}/sshd.pid`,
    `AuthorizedKeysFile ${dir}/authorized_keys`, 'PubkeyAuthentication yes', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'PermitRootLogin prohibit-password',
    // A HOME of its own too, so the login shell reads none of this machine's rc files (they may re-add PATH entries).
    `SetEnv PATH=${bin} HOME=${dir}/home`, '',
  ].join('\n'));
  const configFile = path.join(dir, 'ssh_config');
  fs.writeFileSync(configFile, [
    'Host testhost', '  HostName 127.0.0.1', `  Port ${port}`, `  User ${os.userInfo().username}`,
    `  IdentityFile ${dir}/user_key`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${dir}/known_hosts`,
    '  StrictHostKeyChecking accept-new', '  LogLevel ERROR', '',
  ].join('\n'));
  const sshd: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', sshdConfig], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  sshd.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((resolve) => sshd.on('exit', () => resolve()));
  for (let i = 0; ; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); }).on('error', () => resolve(false));
    });
    if (open) break;
    if (sshd.exitCode !== null || i > 200) throw new Error(`sshd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    workdir,
    configFile,
    target: (name = 'gpu-box') => ({ name, type: 'ssh', host: 'testhost', config: configFile, workdir }),
    entry: (name = 'gpu-box') => `  ${name}:\n    type: ssh\n    host: testhost\n    config: ${configFile}\n    workdir: ${workdir}\n`,
    async stop() {
      // Jobs detach from ssh on purpose: end any the test left behind, by the pid each wrote.
      for (const job of fs.readdirSync(workdir)) {
        const pidFile = path.join(workdir, job, 'pid');
        const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0;
        if (pid && isProcessAlive(pid)) process.kill(-pid, 'SIGKILL');
      }
      sshd.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
