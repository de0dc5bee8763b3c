// The project's objectives on the curves chart: a dashed line at an objective's
// target, labelled with its goal, so how far each run is from the KPI reads at
// a glance.

import type { Plugin } from 'chart.js';
import type { ObjectiveInfo } from '../../src/protocol/compare';
import { formatNumber } from '../common/format';

/** The objective with a target for this metric, if mlops.yaml declares one. */
export function targetOf(metric: string | null, objectives: ObjectiveInfo[] = []): (ObjectiveInfo & { target: number }) | undefined {
  const o = objectives.find((x) => x.metric === metric);
  return o && o.target !== undefined ? (o as ObjectiveInfo & { target: number }) : undefined;
}

export function goalLabel(o: ObjectiveInfo & { target: number }): string {
  return `target ${formatNumber(o.target)} (${o.goal === 'maximize' ? 'higher is better' : 'lower is better'})`;
}

/** Draws the target line after the curves; `current` says which objective applies now. */
export function goalLinePlugin(current: () => (ObjectiveInfo & { target: number }) | undefined, color: () => string): Plugin<'line'> {
  return {
    id: 'mlopsGoalLine',
    afterDatasetsDraw(chart) {
      const o = current();
      const y = chart.scales.y;
      if (!o || !y) return;
      const py = y.getPixelForValue(o.target);
      const { left, right, top, bottom } = chart.chartArea;
      if (!Number.isFinite(py) || py < top || py > bottom) return;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = color();
      ctx.fillStyle = color();
      ctx.lineWidth = 1;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(left, py);
      ctx.lineTo(right, py);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = '11px sans-serif';
      ctx.textAlign = 'right';
      ctx.textBaseline = 'bottom';
      ctx.fillText(goalLabel(o), right - 4, py - 2);
      ctx.restore();
    },
  };
}
