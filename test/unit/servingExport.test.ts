// Export of a deployment (Docker build context, Kubernetes manifests validated offline against
// the Kubernetes schemas by kubernetes-models) and the capacity load test on a running one.
import * as assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { Deployment as K8sDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployments, deploymentSpec } from '../../src/core/serving/deployments';
import { exportDocker, exportKubernetes, kubernetesManifests } from '../../src/core/serving/export';
import type { ServerConfig } from '../../src/core/serving/server';
import { crdValidator } from './crdSchema';
import { fixtures, repoRoot, tmpWorkspace } from './helpers';
import { breastCancer, fixtureProbabilities, MODEL, NORM, post } from './servingHelpers';

describe('deployment export and load test', async () => {
  let deployments: Deployments | undefined;
  after(() => deployments?.stopAll()); // registered first: runs before the workspace is removed
  const layout = tmpWorkspace();
  fs.copyFileSync(MODEL, path.join(layout.root, 'cancer.onnx'));
  deployments = await Deployments.open(layout.root);
  const running = await deployments!.deploy(deploymentSpec('cancer', 'cancer.onnx', { processing: { standardize: NORM } }));

  it('writes Kubernetes Deployment and Service manifests that pass the Kubernetes schemas, and a KServe InferenceService', () => {
    const out = path.join(layout.root, 'k8s');
    const files = exportKubernetes(deployments!, 'cancer', out, { image: 'registry.example/cancer:1' });
    assert.deepEqual(files.sort(), ['deployment.yaml', 'inferenceservice.yaml', 'service.yaml']);
    const read = (f: string) => parse(fs.readFileSync(path.join(out, f), 'utf8'));
    const deployment = new K8sDeployment(read('deployment.yaml'));
    deployment.validate();
    new Service(read('service.yaml')).validate();
    assert.equal(deployment.spec!.template.spec!.containers[0].image, 'registry.example/cancer:1');
    assert.equal(deployment.spec!.template.spec!.containers[0].readinessProbe!.httpGet!.path, '/v2/health/ready');
    // A mistake the schema catches, so the validation above is not vacuous.
    assert.throws(() => new K8sDeployment({ ...read('deployment.yaml'), spec: { replicas: 'one' } }).validate());
    const isvc = read('inferenceservice.yaml');
    assert.equal(isvc.apiVersion, 'serving.kserve.io/v1beta1');
    assert.equal(isvc.spec.predictor.containers[0].image, 'registry.example/cancer:1');
  });

  it('writes a KServe InferenceService that passes KServe\'s own CRD schema, with unknown fields refused', () => {
    const out = path.join(layout.root, 'k8s-kserve');
    exportKubernetes(deployments!, 'cancer', out, { image: 'registry.example/cancer:1' });
    const isvc = parse(fs.readFileSync(path.join(out, 'inferenceservice.yaml'), 'utf8'));
    const validate = crdValidator(path.join(fixtures, 'kserve', 'inferenceservice-v1beta1.schema.json'));
    assert.deepEqual(validate(isvc), []);
    assert.equal(isvc.kind, 'InferenceService');
    assert.equal(isvc.spec.predictor.containers[0].ports[0].containerPort, 8080);
    // Mistakes the schema catches, so the check above is not vacuous: a misspelt field, a wrong type, a missing required one.
    const container = isvc.spec.predictor.containers[0];
    assert.match(validate({ ...isvc, spec: { predictor: { containers: [{ ...container, imagePullPolicyy: 'Always' }] } } }).join('\n'), /imagePullPolicyy/);
    assert.match(validate({ ...isvc, spec: { predictor: { ...isvc.spec.predictor, minReplicas: 'one' } } }).join('\n'), /minReplicas must be integer/);
    assert.match(validate({ ...isvc, spec: { predictor: { containers: [{ ...container, name: undefined }] } } }).join('\n'), /must have required property 'name'/);
    assert.match(validate({ ...isvc, spec: {} }).join('\n'), /must have required property 'predictor'/);
  });

  it('names the Kubernetes objects of a deployment whose name Kubernetes would refuse by a valid one', () => {
    const validate = crdValidator(path.join(fixtures, 'kserve', 'inferenceservice-v1beta1.schema.json'));
    for (const [deployment, expected] of [['Cancer_v2.1', 'cancer-v2-1'], ['2024-churn', 'm-2024-churn'], ['a'.repeat(62) + '_b', 'a'.repeat(62)]]) {
      const manifests = kubernetesManifests(deployment, 'img:1', 1);
      for (const object of Object.values(manifests)) {
        const name = (object.metadata as { name: string }).name;
        assert.equal(name, expected);
        assert.match(name, /^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1035 label, as Services and KServe require');
      }
      new K8sDeployment(JSON.parse(JSON.stringify(manifests['deployment.yaml']))).validate();
      new Service(JSON.parse(JSON.stringify(manifests['service.yaml']))).validate();
      assert.deepEqual(validate(JSON.parse(JSON.stringify(manifests['inferenceservice.yaml']))), []);
    }
  });

  it('writes a Docker build context whose server bundle, config and model serve on their own', { timeout: 60_000 }, async () => {
    const out = path.join(layout.root, 'docker');
    const files = await exportDocker(deployments!, 'cancer', out, { serverBundle: path.join(repoRoot, 'dist', 'modelServer.js') });
    assert.ok(files.includes('Dockerfile') && files.includes('modelServer.js') && files.includes('config.json'));
    const dockerfile = fs.readFileSync(path.join(out, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^FROM node:20/m);
    assert.match(dockerfile, /onnxruntime-node@\d+\.\d+\.\d+/);
    assert.match(dockerfile, /CMD \["node","--max-semi-space-size=4","modelServer.js","config.json"\]/);
    // Run the context as the container would, on loopback: paths under /srv mapped to the folder.
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as ServerConfig;
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.adminToken, '');
    const local = JSON.parse(JSON.stringify(config).replaceAll('/srv/', `${out}/`)) as ServerConfig;
    local.host = '127.0.0.1';
    local.port = 0;
    fs.writeFileSync(path.join(out, 'local.json'), JSON.stringify(local));
    const child = fork(path.join(out, 'modelServer.js'), [path.join(out, 'local.json')], { env: { ...process.env, NODE_PATH: path.join(repoRoot, 'node_modules') }, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const ready = await new Promise<{ url: string }>((resolve, reject) => {
        child.once('message', (m) => resolve(m as { url: string }));
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const { rows } = breastCancer();
      const res = await post(`${ready.url}/v2/models/cancer/infer`, { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: rows[0] }] });
      assert.deepEqual((res.json.outputs as { data: number[] }[])[0].data, (await fixtureProbabilities([rows[0]]))[0]);
      assert.equal((await post(`${ready.url}/admin/routes`, {})).status, 403, 'no admin API in an exported server');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('load-tests at increasing rates and saves the capacity estimate with the deployment', { timeout: 120_000 }, async () => {
    assert.ok(running.status.url);
    // A generous p99 target: this only checks the procedure on a loaded CI machine, not a speed.
    const report = await deployments!.loadTest('cancer', { p99Ms: 5000, stepSeconds: 1, maxRps: 70, targetRps: 1000, coreHourUsd: 0.04 });
    assert.deepEqual(report.steps.map((s) => s.rate), [20, 30, 45, 68], 'rates grow by half each step up to the bound');
    assert.ok(report.maxRps >= 20, `max ${report.maxRps}`);
    assert.equal(report.instances, Math.ceil(1000 / report.maxRps));
    assert.ok(report.rpsPerCore! > 0 && report.costPerMillionUsd! > 0);
    assert.deepEqual(deployments!.capacity('cancer'), JSON.parse(JSON.stringify(report)));
  });
});
