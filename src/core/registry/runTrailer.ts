// The link from a snapshot back to the run that produced it, kept in the snapshot's commit
// message: written when a run's outputs are snapshotted or registered, read by lineage.

/** The commit-message trailer that records the run a snapshot came from (read back by producingRun). */
export function runTrailer(runId: string): string {
  return `Mlops-Run: ${runId}`;
}

/** The run that produced a snapshot, recorded as a trailer of the snapshot's commit message. */
export function producingRun(message: string): string | undefined {
  return /^Mlops-Run: ([0-9a-f]{32})$/m.exec(message)?.[1];
}
