// The panel's connection to the host, opened and asked for the runs before the
// rest of the panel's script runs: main.ts imports this module first, so the
// request leaves before chart.js and the toolkit are evaluated, and the host reads
// the runs and downsamples the first curves meanwhile. The view installs its
// handlers later in the same synchronous script, before any message can arrive.

import type { NotificationHandlers, RequestHandlers } from '../../src/protocol/rpc';
import { COMPARE_PANEL, type CompareContract, type CompareData, type CompareTab, type XAxis } from '../../src/protocol/compare';
import { connect, loadState } from '../common/host';

export interface CompareState {
  v: 1;
  runIds: string[];
  tab: CompareTab;
  metric: string | null;
  xAxis: XAxis;
  logScale: boolean;
  smoothing: number;
  zoom: { min: number; max: number } | null;
  hidden: string[];
  onlyDifferences: boolean;
  parallelMetric: string | null;
  scatterX: string | null;
  scatterY: string | null;
}

type Requests = RequestHandlers<CompareContract['webviewRequests']>;
type Notifications = NotificationHandlers<CompareContract['hostNotifications']>;

const requests: Partial<Requests> = {};
const notifications: Partial<Notifications> = {};

export const saved = loadState<CompareState>(1);
export const endpoint = connect<CompareContract>(COMPARE_PANEL, requests as Requests, notifications as Notifications);

performance.mark('compare:load-request');
/** The runs, and the first metric's curves for a chart as wide as the page (it is not laid out yet). */
export const firstLoad: Promise<CompareData> = endpoint.request('compare/load', {
  metric: saved.metric ?? null,
  chartWidth: document.documentElement.clientWidth || 800,
  smoothing: saved.smoothing || undefined,
});

/** Installs the view's handlers (call before the script ends: messages are handled only after it). */
export function answerWith(viewRequests: Requests, viewNotifications: Notifications): void {
  Object.assign(requests, viewRequests);
  Object.assign(notifications, viewNotifications);
}
