// Real drift on the monitoring example's weather model (examples/monitoring, README "Real
// drift"): trained on Seattle's 2012 days (vega-datasets' seattle-weather.csv), deployed, and
// sent other periods' days by the example's own traffic script: the same 500 requests each
// time (traffic.py --requests; the days shuffled with a fixed seed), so the checks are exact.
// The reference is the training data the weather stage's run recorded (lineage).
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkDeployment } from '../../src/core/monitoring/monitor';
import { runRetrainLoop } from '../../src/core/pipelines/retrain';
import type { MonitoringVerdict } from '../../src/core/monitoring/verdict';
import { mlops } from './helpers';
import { predictionsLogged, weatherTraffic, weatherWorkspace } from './monitoringExample';

const drifted = (v: MonitoringVerdict) => v.columns.filter((c) => c.role === 'feature' && c.drift).map((c) => c.column);

describe('real drift: the weather model of the monitoring example', () => {
  it('flags the features another year or season shifted, and neither the training year nor the features a year left alone', { timeout: 180_000 }, async () => {
    const example = await weatherWorkspace();
    const check = async (period: string, logged: number) => {
      const sent = await weatherTraffic(example, period, 500);
      assert.deepEqual(sent, { sent: 500, failed: 0, versions: { 1: 500 } });
      await predictionsLogged(example, logged);
      return (await checkDeployment(example.root, 'weather', { snapshots: example.project.snapshots })).verdict;
    };

    const same = await check('2012', 500);
    assert.equal(same.reference.from, 'lineage');
    assert.match(same.reference.source, /^[0-9a-f]+$/, 'the snapshot of the weather stage\'s inputs');
    assert.equal(same.reference.rows, 366);
    assert.equal(same.current.rows, 500);
    assert.deepEqual(same.columns.filter((c) => c.role === 'feature').map((c) => [c.column, c.test]), [['precipitation', 'ks'], ['temp_max', 'ks'], ['temp_min', 'ks'], ['wind', 'ks']]);
    assert.deepEqual(drifted(same), []);
    assert.equal(same.alert, false, same.reasons.join('; '));

    // 2014 was warmer than 2012, not wetter or windier.
    const year = await check('2014', 1000);
    assert.deepEqual(drifted(year), ['temp_max', 'temp_min']);
    const p = Object.fromEntries(year.columns.map((c) => [c.column, c.pValue!]));
    assert.ok(p.precipitation > 0.05 && p.wind > 0.05, JSON.stringify(p));
    assert.equal(year.alert, true);
    assert.match(year.reasons.join(), /data drift: 2 of 4 features drifted .*: temp_max, temp_min/);

    const summer = await check('2015-summer', 1500);
    assert.deepEqual(drifted(summer), ['precipitation', 'temp_max', 'temp_min', 'wind']);

    // The example's retrain: covers the cancer model only: the alert stands, and no loop runs for weather.
    const monitored = mlops(example.root, 'monitor', 'run', 'weather');
    assert.equal(monitored.code, 1, monitored.stderr);
    assert.match(monitored.stdout, /no retraining: weather serves weather@champion; retrain: in mlops\.yaml covers cancer/);
    // Retrain Deployment (the editor's) on weather refuses, rather than retraining cancer and switching weather to it.
    await assert.rejects(runRetrainLoop(example.project, 'weather', { trigger: 'manual' }), /retrain: in mlops\.yaml covers cancer, not weather@champion.*add an entry with model: weather/);
    assert.equal(example.project.deployments.get('weather').deployment.target, 'weather@champion');
  });
});
