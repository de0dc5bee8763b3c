// Smoothing that tells the truth (issue 9 §7): the host smooths each run's whole
// history before downsampling, so the smoothed value at a step does not depend
// on run length, on zoom, or on the spikes the downsampler keeps. Each case
// also shows that smoothing only the downsampled points (what the panel did
// before) reads far off on the same data, so the case is one that matters.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downsampleHistory, type DownsampledSeries } from '../../src/core/tracking/downsample';
import type { MetricPoints } from '../../src/core/tracking/metricHistory';
import { smoothHistory } from '../../src/core/tracking/smoothing';

/** A deterministic noise in [-1, 1) of a step (the same at a step in every run). */
function noise(step: number): number {
  let h = Math.imul(step ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 31 - 1;
}

/** A loss that falls to 0.2, noisy, with a spike every 400 steps (the downsampler keeps spikes). */
function spikyLoss(step: number, floor = 0.2): number {
  return floor + 1.8 * Math.exp(-step / 800) + 0.05 * noise(step) + (step % 400 === 399 ? 3 : 0);
}

function history(n: number, f: (step: number) => number): MetricPoints {
  const steps = new Float64Array(n), times = new Float64Array(n), values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    steps[i] = i;
    times[i] = 1_700_000_000_000 + i * 10;
    values[i] = f(i);
  }
  return { steps, times, values };
}

/** The reference: a debiased EMA over every point, in a plain loop. */
function emaAt(values: ArrayLike<number>, weight: number, upTo: number): number {
  let last = 0;
  for (let i = 0; i <= upTo; i++) last = last * weight + (1 - weight) * values[i];
  return last / (1 - Math.pow(weight, upTo + 1));
}

/** What the panel did before: an EMA over the points it received. */
function emaOfReceived(s: DownsampledSeries, weight: number): number[] {
  let last = 0;
  return s.values.map((v, n) => {
    last = last * weight + (1 - weight) * v;
    return last / (1 - Math.pow(weight, n + 1));
  });
}

/** The received point nearest to a step: what the hover reads. */
function at(s: DownsampledSeries, step: number): number {
  let best = 0;
  for (let j = 1; j < s.steps.length; j++) if (Math.abs(s.steps[j] - step) < Math.abs(s.steps[best] - step)) best = j;
  return best;
}

describe('smoothing of the whole history', () => {
  it('is a debiased EMA: the first value is not pulled towards 0; NaN points are skipped', () => {
    const h = history(5, (i) => [10, 10, 10, 20, NaN][i]);
    const s = smoothHistory(h, 0.5);
    assert.equal(s[0], 10);
    assert.equal(s[2], 10);
    assert.ok(Math.abs(s[3] - 14.375 / 0.9375) < 1e-12, 'EMA 5, 7.5, 8.75, 14.375 over 1 - 0.5^4');
    assert.ok(Number.isNaN(s[4]));
    assert.deepEqual([...smoothHistory(h, 0)].slice(0, 4), [10, 10, 10, 20], 'weight 0: the raw values');
  });

  it('follows the steps, not the log order, when a resumed run logged steps out of order', () => {
    const h: MetricPoints = { steps: Float64Array.from([2, 0, 1]), times: Float64Array.from([3, 1, 2]), values: Float64Array.from([30, 10, 20]) };
    const s = smoothHistory(h, 0.5);
    assert.equal(s[1], 10, 'step 0 comes first');
    assert.equal(s[0], emaAt([10, 20, 30], 0.5, 2), 'step 2 is smoothed last');
  });

  it('two runs with the same curve, 10k and 100k steps: the same smoothed value at step 5,600', () => {
    const short = history(10_000, spikyLoss), long = history(100_000, spikyLoss);
    const truth = emaAt(long.values, 0.9, 5600);
    const a = downsampleHistory(short, { maxPoints: 800, smoothing: 0.9 });
    const b = downsampleHistory(long, { maxPoints: 800, smoothing: 0.9 });
    for (const s of [a, b]) {
      // Every point sent carries the true smoothed value at its step.
      for (const j of [0, 1, at(s, 5600), s.steps.length - 1]) assert.ok(Math.abs(s.smoothed![j] - emaAt(long.values, 0.9, s.steps[j])) < 1e-9);
      assert.ok(Math.abs(s.smoothed![at(s, 5600)] - truth) < 0.03, `near step 5,600: ${s.smoothed![at(s, 5600)]} vs true ${truth}`);
    }
    const before = emaOfReceived(b, 0.9)[at(b, 5600)];
    assert.ok(Math.abs(before - truth) > 0.3, `smoothing the received points read ${before} (true ${truth})`);
  });

  it('a spiky 200k-point loss ends at its true smoothed value, not pulled up by the spikes the downsampler keeps', () => {
    const loss = history(200_000, (step) => spikyLoss(step, 0.658));
    const s = downsampleHistory(loss, { maxPoints: 800, smoothing: 0.9 });
    const truth = emaAt(loss.values, 0.9, 199_999);
    assert.equal(s.steps.at(-1), 199_999);
    assert.ok(Math.abs(s.smoothed!.at(-1)! - truth) < 1e-9, `ends at ${s.smoothed!.at(-1)} (true ${truth})`);
    const before = emaOfReceived(s, 0.9).at(-1)!;
    assert.ok(before - truth > 0.5, `smoothing the received points ended at ${before} (true ${truth})`);
  });

  it('at step 150,000 smoothing 0.99 reads the same zoomed in and zoomed out', () => {
    const loss = history(200_000, (step) => spikyLoss(step, 0.618));
    const truth = emaAt(loss.values, 0.99, 150_000);
    const whole = downsampleHistory(loss, { maxPoints: 800, smoothing: 0.99 });
    const zoomed = downsampleHistory(loss, { maxPoints: 800, smoothing: 0.99, range: { axis: 'step', min: 149_900, max: 150_100 } });
    assert.equal(zoomed.steps[at(zoomed, 150_000)], 150_000);
    assert.ok(Math.abs(zoomed.smoothed![at(zoomed, 150_000)] - truth) < 1e-9);
    assert.ok(Math.abs(whole.smoothed![at(whole, 150_000)] - truth) < 0.03, `zoomed out ${whole.smoothed![at(whole, 150_000)]} vs true ${truth}`);
    const beforeZoomed = emaOfReceived(zoomed, 0.99)[at(zoomed, 150_000)];
    const beforeWhole = emaOfReceived(whole, 0.99)[at(whole, 150_000)];
    assert.ok(Math.abs(beforeWhole - beforeZoomed) > 0.1, `smoothing the received points read ${beforeZoomed} zoomed and ${beforeWhole} zoomed out (true ${truth})`);
  });

  it('sends no smoothed values when not asked to smooth', () => {
    assert.equal(downsampleHistory(history(100, spikyLoss), { maxPoints: 50 }).smoothed, undefined);
  });
});
