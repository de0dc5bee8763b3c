import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testTarget } from '../../src/core/compute/inventory';
import { runOnTarget } from '../../src/core/compute/shell';
import { readTargets } from '../../src/core/compute/targets';
import { cliPath, tmpWorkspace } from './helpers';
import { startSshd, type TestSshd } from './sshd';

function cli(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8' });
}

describe('targets in the user settings (mlops.targets, passed as MLOPS_TARGETS)', () => {
  const withUserTargets = (value: string, ws: string, ...args: string[]) =>
    spawnSync(process.execPath, [cliPath, ...args], { cwd: ws, encoding: 'utf8', env: { ...process.env, MLOPS_TARGETS: value } });

  it('adds the user\'s targets to every workspace, and a target of the same name in mlops.yaml wins', () => {
    const ws = tmpWorkspace();
    const user = JSON.stringify({ 'my-box': { type: 'ssh', host: 'me@box' }, shared: { type: 'ssh', host: 'mine' } });
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), 'targets:\n  shared:\n    type: ssh\n    host: the-teams\n');
    const list = withUserTargets(user, ws.root, 'targets', 'list', '--json');
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).map((t: { name: string; host?: string; declaredIn: string }) => [t.name, t.host, t.declaredIn]), [
      ['local', undefined, 'built in'], ['my-box', 'me@box', 'user settings'], ['shared', 'the-teams', 'mlops.yaml'],
    ]);
    assert.match(withUserTargets(user, ws.root, 'targets', 'list').stdout, /my-box\s+ssh\s+.*user settings/);
  });

  it('names the setting and the fix for bad JSON or a bad entry, and keeps mlops.yaml\'s targets working without it', () => {
    const ws = tmpWorkspace();
    const notJson = withUserTargets('{gpu: ssh', ws.root, 'targets', 'list');
    assert.equal(notJson.status, 1);
    assert.match(notJson.stderr, /user settings' targets \(mlops\.targets, or \$MLOPS_TARGETS\) are not valid JSON.*Fix the setting/);
    const badEntry = withUserTargets(JSON.stringify({ box: { type: 'ssh' } }), ws.root, 'targets', 'list');
    assert.equal(badEntry.status, 1);
    assert.match(badEntry.stderr, /mlops\.targets.*target "box" \(ssh\) needs "host"/);
    const none = withUserTargets('', ws.root, 'targets', 'list', '--json');
    assert.deepEqual(JSON.parse(none.stdout).map((t: { name: string }) => t.name), ['local']);
  });
});

describe('targets in mlops.yaml', () => {
  it('has local without any config, and reads ssh and slurm targets with their settings', () => {
    const ws = tmpWorkspace();
    assert.deepEqual(readTargets(ws.root), [{ name: 'local', type: 'local', declaredIn: 'built in' }]);
    fs.writeFileSync(path.join(ws.root, 'ssh_config'), 'Host gpu\n  HostName 10.0.0.5\n');
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), [
      'targets:', '  gpu-box:', '    host: gpu', '    config: ssh_config', '    python: ~/envs/torch/bin/python',
      '  cluster:', '    type: slurm', '    host: login1', '    partition: gpu', '    gpus: "a100:2"', '    time: "2:00:00"', '    cpus: 8', '    memory: 32G', '',
    ].join('\n'));
    assert.deepEqual(readTargets(ws.root), [
      { name: 'local', type: 'local', declaredIn: 'built in' },
      { name: 'gpu-box', type: 'ssh', host: 'gpu', config: path.join(ws.root, 'ssh_config'), workdir: undefined, python: '~/envs/torch/bin/python', declaredIn: 'mlops.yaml' },
      { name: 'cluster', type: 'slurm', host: 'login1', config: undefined, workdir: undefined, partition: 'gpu', gpus: 'a100:2', time: '2:00:00', cpus: 8, memory: '32G', declaredIn: 'mlops.yaml' },
    ]);
  });

  const bad: [string, string, RegExp][] = [
    ['a list instead of a mapping', 'targets:\n  - gpu\n', /"targets" must be a mapping/],
    ['an unknown type', 'targets:\n  k8s:\n    type: nomad\n', /target "k8s": "type" must be one of local, ssh, slurm, kubernetes/],
    ['ssh without host', 'targets:\n  box:\n    type: ssh\n', /target "box" \(ssh\) needs "host"/],
    ['a missing ssh config file', 'targets:\n  box:\n    host: gpu\n    config: nowhere/ssh_config\n', /ssh config file .*nowhere\/ssh_config does not exist/],
    ['a host that looks like an ssh option', 'targets:\n  box:\n    host: -oProxyCommand=evil\n', /"host" may not start with "-"/],
    ['a bad Slurm time', 'targets:\n  c:\n    type: slurm\n    time: two hours\n', /"time" must be a Slurm time limit/],
    ['fractional cpus', 'targets:\n  c:\n    type: slurm\n    cpus: 1.5\n', /"cpus" must be a whole number/],
  ];
  for (const [what, yaml, message] of bad) {
    it(`rejects ${what} with a message naming the target and the fix`, () => {
      const ws = tmpWorkspace();
      fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), yaml);
      assert.throws(() => readTargets(ws.root), message);
    });
  }

  it('mlops targets list prints the targets; gpus on a host without nvidia-smi says so; a bad name lists the known ones', () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), 'targets:\n  cluster:\n    type: slurm\n    partition: gpu\n');
    const list = cli(ws.root, 'targets', 'list', '--json');
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).map((t: { name: string }) => t.name), ['local', 'cluster']);
    assert.match(cli(ws.root, 'targets', 'list').stdout, /cluster\s+slurm\s+sbatch here, partition gpu/);
    const gpus = spawnSync(process.execPath, [cliPath, 'targets', 'gpus', 'local'], { cwd: ws.root, encoding: 'utf8', env: { ...process.env, PATH: '/usr/bin:/bin' } });
    if (!fs.existsSync('/usr/bin/nvidia-smi')) {
      assert.equal(gpus.status, 1);
      assert.match(gpus.stderr, /Target "local" lists no GPUs: no nvidia-smi on its PATH/);
    }
    const unknown = cli(ws.root, 'targets', 'test', 'nope');
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /No target "nope": declared targets are local, cluster/);
  });
});

describe('ssh targets against a real sshd on 127.0.0.1', () => {
  let sshd: TestSshd;
  before(async () => { sshd = await startSshd(); });
  after(async () => { await sshd?.stop(); });

  it('the host offers sh, tar and python3 but no node or rsync, and Test Connection reports it usable', async () => {
    const target = sshd.target();
    const bare = await runOnTarget(target, 'command -v node || echo no-node; command -v rsync || echo no-rsync');
    assert.match(bare.stdout, /no-node\nno-rsync/);
    const check = await testTarget(target);
    assert.match(check.python ?? '', /^3\.\d+\.\d+$/);
    assert.equal(check.tar, true);
    assert.deepEqual(check.problems, []);
  });

  it('mlops targets test names an unreachable host and how to check it', () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'ssh_config'), fs.readFileSync(sshd.configFile, 'utf8').replace(/Port \d+/, 'Port 1'));
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), 'targets:\n  down:\n    host: testhost\n    config: ssh_config\n');
    const r = cli(ws.root, 'targets', 'test', 'down');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Cannot reach target "down" \(testhost\): .*Connection refused.*Check that "ssh testhost" works/);
  });
});
