import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestSlurm { conf: string; dir: string; stop(): Promise<void> }

function daemon(command: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; exited: Promise<void>; log: () => string } {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  return { child, exited: new Promise((r) => child.on('exit', () => r())), log: () => log };
}

/**
 * A real single-node Slurm cluster (munged, slurmctld, slurmd) in a temp folder; clients find it through SLURM_CONF.
 * `gpus` declares that many GPUs of a type as GRES, backed by plain files (slurmd logs that they are not devices and
 * counts them): no GPU exists here, but sinfo, sbatch --gres and the scheduler treat them as GPUs.
 */
export async function startSlurm(gpus?: { type: string; count: number }): Promise<TestSlurm> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-slurm-'));
  const host = os.hostname();
  for (const sub of ['munge', 'state', 'spool']) fs.mkdirSync(path.join(dir, sub), { mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'munge.key'), crypto.randomBytes(1024), { mode: 0o400 });
  const socket = path.join(dir, 'munge', 'munge.socket');
  const conf = path.join(dir, 'slurm.conf');
  fs.writeFileSync(conf, [
    'ClusterName=test', `SlurmctldHost=${host}(127.0.0.1)`, 'SlurmUser=root', 'SlurmdUser=root',
    'AuthType=auth/munge', 'CredType=cred/munge', `AuthInfo=socket=${socket}`,
    `StateSaveLocation=${dir}/state`, `SlurmdSpoolDir=${dir}/spool`,
    `SlurmctldPidFile=${dir}/slurmctld.pid`, `SlurmdPidFile=${dir}/slurmd.pid`,
    `SlurmctldLogFile=${dir}/slurmctld.log`, `SlurmdLogFile=${dir}/slurmd.log`,
    'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none', 'SelectType=select/cons_tres', 'SelectTypeParameters=CR_Core',
    'ReturnToService=2', 'MinJobAge=300', 'KillWait=5',
    ...(gpus ? ['GresTypes=gpu'] : []),
    `NodeName=${host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000${gpus ? ` Gres=gpu:${gpus.type}:${gpus.count}` : ''}`,
    `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`, '',
  ].join('\n'));
  if (gpus) {
    for (let i = 0; i < gpus.count; i++) fs.writeFileSync(path.join(dir, `gpu${i}`), '');
    fs.writeFileSync(path.join(dir, 'gres.conf'), `AutoDetect=off\nNodeName=${host} Name=gpu Type=${gpus.type} File=${dir}/gpu[0-${gpus.count - 1}]\n`);
  }
  const env = { ...process.env, SLURM_CONF: conf };
  const munged = daemon('/usr/sbin/munged', ['-F', `--key-file=${dir}/munge.key`, `--socket=${socket}`, `--log-file=${dir}/munged.log`, `--pid-file=${dir}/munged.pid`, `--seed-file=${dir}/munge.seed`], env);
  const daemons = [munged];
  const stop = async () => {
    for (const d of [...daemons].reverse()) {
      d.child.kill('SIGTERM');
      await d.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(() => fs.existsSync(socket), () => `munged did not start: ${munged.log()}`);
    daemons.push(daemon('/usr/sbin/slurmctld', ['-D', '-f', conf], env));
    daemons.push(daemon('/usr/sbin/slurmd', ['-D', '-f', conf], env));
    await until(() => /State=IDLE/.test(spawnSync('scontrol', ['show', 'node', host], { env, encoding: 'utf8' }).stdout),
      () => `the Slurm node did not come up: ${daemons.map((d) => d.log()).join('\n')}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { conf, dir, stop };
}

async function until(ok: () => boolean, failure: () => string): Promise<void> {
  for (const deadline = Date.now() + 60_000; !ok(); await new Promise((r) => setTimeout(r, 200))) {
    if (Date.now() > deadline) throw new Error(failure());
  }
}
