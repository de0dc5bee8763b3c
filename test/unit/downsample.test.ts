import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downsampleHistory, lttbMinMax } from '../../src/core/tracking/downsample';
import type { MetricPoints } from '../../src/core/tracking/metricHistory';

function points(values: number[], stepOf = (i: number) => i): MetricPoints {
  const n = values.length;
  const steps = new Float64Array(n), times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    steps[i] = stepOf(i);
    times[i] = 1_700_000_000_000 + i * 1000;
  }
  return { steps, times, values: Float64Array.from(values) };
}

/** A noisy decaying loss curve, deterministic. */
function lossCurve(n: number): number[] {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, (_, i) => 2 * Math.exp(-i / (n / 5)) + 0.05 * rand());
}

describe('LTTB downsampling with min/max kept', () => {
  it('returns every index when there are no more points than asked for', () => {
    assert.deepEqual(lttbMinMax([0, 1, 2], [5, 6, 7], 3), [0, 1, 2]);
    assert.deepEqual(lttbMinMax([0, 1, 2], [5, 6, 7], 1000), [0, 1, 2]);
  });

  it('keeps at most maxPoints, ascending and unique, with the first and last point', () => {
    const ys = lossCurve(10_000);
    const xs = ys.map((_, i) => i);
    for (const max of [5, 7, 50, 500, 2000]) {
      const kept = lttbMinMax(xs, ys, max);
      assert.ok(kept.length <= max, `${kept.length} <= ${max}`);
      assert.ok(kept.length >= max - 2, `uses its budget: ${kept.length} of ${max}`);
      assert.equal(kept[0], 0);
      assert.equal(kept[kept.length - 1], 9_999);
      for (let j = 1; j < kept.length; j++) assert.ok(kept[j] > kept[j - 1], 'strictly ascending');
    }
  });

  it('always keeps the global minimum and maximum, even a one-point spike', () => {
    const ys = lossCurve(10_000);
    ys[4321] = 50; // a loss spike
    ys[8765] = -3; // a dip
    const xs = ys.map((_, i) => i);
    for (const max of [4, 5, 10, 100]) {
      const kept = lttbMinMax(xs, ys, max);
      assert.ok(kept.includes(4321), `spike kept with ${max} points`);
      assert.ok(kept.includes(8765), `dip kept with ${max} points`);
      assert.ok(kept.length <= max);
    }
  });

  it('keeps the shape: a straight line stays on the line, a step keeps both sides of the jump', () => {
    const line = Array.from({ length: 1000 }, (_, i) => 3 * i + 1);
    const xs = line.map((_, i) => i);
    for (const k of lttbMinMax(xs, line, 20)) assert.equal(line[k], 3 * k + 1);
    const step = Array.from({ length: 1000 }, (_, i) => (i < 500 ? 0 : 1));
    const kept = lttbMinMax(xs, step, 20).map((k) => step[k]);
    assert.ok(kept.includes(0) && kept.includes(1));
  });

  it('the downsampled curve stays close to the original (max vertical error small against the range)', () => {
    const ys = Array.from({ length: 10_000 }, (_, i) => Math.sin(i / 400) + i / 5000);
    const xs = ys.map((_, i) => i);
    const kept = lttbMinMax(xs, ys, 300);
    let worst = 0;
    for (let j = 1; j < kept.length; j++) {
      const [a, b] = [kept[j - 1], kept[j]];
      for (let i = a; i <= b; i++) {
        const interpolated = ys[a] + ((ys[b] - ys[a]) * (i - a)) / (b - a || 1);
        worst = Math.max(worst, Math.abs(interpolated - ys[i]));
      }
    }
    assert.ok(worst < 0.02, `max error ${worst}`);
  });

  it('works on a subset of candidate indices', () => {
    const ys = [0, 9, 1, 2, 3, 4, 5, 6, 7, 8];
    const xs = ys.map((_, i) => i);
    const kept = lttbMinMax(xs, ys, 4, [2, 3, 4, 5, 6, 7, 8]);
    assert.ok(kept.every((k) => k >= 2 && k <= 8));
    assert.ok(kept.includes(2) && kept.includes(8));
  });
});

describe('downsampleHistory', () => {
  it('leaves a short history whole and says it is not downsampled', () => {
    const out = downsampleHistory(points([1, 2, 3]), { maxPoints: 100 });
    assert.deepEqual(out.values, [1, 2, 3]);
    assert.deepEqual(out.steps, [0, 1, 2]);
    assert.equal(out.times[2], 1_700_000_002_000);
    assert.equal(out.total, 3);
    assert.equal(out.downsampled, false);
  });

  it('drops NaN and ±Infinity points and counts them', () => {
    const out = downsampleHistory(points([1, NaN, 3, Infinity, -Infinity, 2]), { maxPoints: 100 });
    assert.deepEqual(out.values, [1, 3, 2]);
    assert.deepEqual(out.steps, [0, 2, 5]);
    assert.equal(out.nonFinite, 3);
    assert.equal(out.total, 6);
  });

  it('downsamples 10,000 points to the budget, keeping the extremes', () => {
    const ys = lossCurve(10_000);
    const out = downsampleHistory(points(ys), { maxPoints: 500 });
    assert.ok(out.values.length <= 500);
    assert.equal(out.downsampled, true);
    assert.equal(Math.min(...out.values), Math.min(...ys));
    assert.equal(Math.max(...out.values), Math.max(...ys));
    assert.equal(out.steps[0], 0);
    assert.equal(out.steps[out.steps.length - 1], 9_999);
  });

  it('a step range returns the detail inside it plus one neighbour each side', () => {
    const ys = lossCurve(10_000);
    const out = downsampleHistory(points(ys), { maxPoints: 500, range: { axis: 'step', min: 1000, max: 1200 } });
    assert.equal(out.downsampled, false, '201 points fit: every one is sent');
    assert.equal(out.steps.length, 203);
    assert.equal(out.steps[0], 999);
    assert.equal(out.steps[out.steps.length - 1], 1201);
    assert.equal(out.total, 203);
  });

  it('a time range selects by wall time', () => {
    const out = downsampleHistory(points(lossCurve(100)), { maxPoints: 500, range: { axis: 'time', min: 1_700_000_010_000, max: 1_700_000_012_000 } });
    assert.deepEqual(out.steps, [9, 10, 11, 12, 13]);
  });

  it('handles steps that are not in order (a resumed run)', () => {
    const out = downsampleHistory(points([5, 4, 3, 2, 1, 0], (i) => [0, 1, 2, 1, 2, 3][i]), { maxPoints: 100, range: { axis: 'step', min: 2, max: 2 } });
    assert.deepEqual(out.steps, [1, 2, 2, 3]);
  });
});
