// What `npm run package` puts beside the bundles: onnxruntime-node for one platform, complete
// enough to run a model from a folder with no node_modules above it (as an installed extension is).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from './helpers';

const packageScript = path.join(repoRoot, 'scripts', 'package.mjs');

describe('npm run package', () => {
  it('stages onnxruntime-node for this platform (and Linux x64, for remote hosts) only, and a model runs from the staged copy alone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-package-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const stage = spawnSync(process.execPath, [packageScript, '--stage-only', dir], { encoding: 'utf8' });
    assert.equal(stage.status, 0, stage.stderr);
    const bin = path.join(dir, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    const staged = fs.readdirSync(bin).flatMap((platform) => fs.readdirSync(path.join(bin, platform)).map((arch) => `${platform}-${arch}`));
    assert.deepEqual(staged.sort(), [...new Set([`${process.platform}-${process.arch}`, 'linux-x64'])].sort());
    // Run from inside the staged folder (under os.tmpdir(), not the checkout): only the staged copy can be found.
    fs.copyFileSync(path.join(repoRoot, 'test', 'fixtures', 'models', 'breast_cancer_mlp.onnx'), path.join(dir, 'model.onnx'));
    fs.writeFileSync(path.join(dir, 'infer.js'), [
      "const ort = require('onnxruntime-node');",
      "console.log(require.resolve('onnxruntime-node'));",
      "ort.InferenceSession.create(__dirname + '/model.onnx').then(async (s) => {",
      "  const out = await s.run({ input: new ort.Tensor('float32', new Float32Array(30).fill(0.1), [1, 30]) });",
      '  console.log(JSON.stringify(Array.from(out.probabilities.data)));',
      '});',
    ].join('\n'));
    const ran = spawnSync(process.execPath, [path.join(dir, 'infer.js')], { encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
    assert.equal(ran.status, 0, ran.stderr);
    const [resolved, probabilities] = ran.stdout.trim().split('\n');
    assert.ok(resolved.startsWith(fs.realpathSync(dir)) || resolved.startsWith(dir), `loaded from the staged copy: ${resolved}`);
    const p = JSON.parse(probabilities) as number[];
    assert.equal(p.length, 2);
    assert.ok(Math.abs(p[0] + p[1] - 1) < 1e-5, `probabilities: ${p}`);
  });

  it('names the targets when asked for one it cannot build', () => {
    const r = spawnSync(process.execPath, [packageScript, '--stage-only', os.tmpdir(), '--target', 'plan9-mips'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^package: "plan9-mips" is not a target; use one of linux-x64, linux-arm64, darwin-x64, darwin-arm64, win32-x64, win32-arm64\.$/m);
  });
});
