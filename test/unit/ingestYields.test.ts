// Opening a workspace of many runs gives the event loop turns while it checks
// and reads the logs (issue 9 §6): the extension host runs every extension on
// one thread, so a pass that never yields freezes them all until it ends.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tracking } from '../../src/core/tracking/tracking';
import { metricEvents, tmpWorkspace, writeRun } from './helpers';

/** Opens the workspace while a 1 ms interval counts the turns the event loop got. */
async function openCountingTurns(root: string): Promise<{ tracking: Tracking; turns: number }> {
  let turns = 0;
  const ticker = setInterval(() => turns++, 1);
  try {
    const tracking = await Tracking.open(root);
    return { tracking, turns };
  } finally {
    clearInterval(ticker);
  }
}

describe('opening a large workspace yields to the event loop', () => {
  it('a pass over 300 runs with nothing new (the index saved) and a full rebuild both let timers run', async () => {
    const layout = tmpWorkspace();
    const ids = Array.from({ length: 300 }, () => writeRun(layout, [...metricEvents('loss', 200), ...metricEvents('acc', 200)]));
    const first = await openCountingTurns(layout.root);
    assert.equal(first.tracking.listRuns().length, ids.length);
    first.tracking.close();
    assert.ok(first.turns >= 2, `a full rebuild of 120,000 points gave the event loop ${first.turns} turns`);
    const again = await openCountingTurns(layout.root);
    assert.equal(again.tracking.getRun(ids[299])!.metrics.length, 2);
    again.tracking.close();
    assert.ok(again.turns >= 2, `checking 300 runs' histories gave the event loop ${again.turns} turns`);
  });
});
