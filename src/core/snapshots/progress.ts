import type { SnapshotProgress } from './types';

/** Forwards progress at most every `intervalMs` (always at phase changes and at the end of a phase). */
export class ProgressReporter {
  private last = 0;
  private phase?: SnapshotProgress['phase'];

  constructor(private readonly sink: ((p: SnapshotProgress) => void) | undefined, private readonly intervalMs = 100) {}

  report(p: SnapshotProgress, force = false): void {
    if (!this.sink) return;
    const now = performance.now();
    if (!force && p.phase === this.phase && now - this.last < this.intervalMs) return;
    this.phase = p.phase;
    this.last = now;
    try {
      this.sink(p);
    } catch {
      // a failing progress callback must not fail the snapshot
    }
  }
}
