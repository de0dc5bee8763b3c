/**
 * A log-batch of plain metrics (isPlainMlflowMetric) is stored as the bytes it arrived in, an
 * `mlflow_metrics` line (docs/event-log.md), instead of being rewritten as a `metrics` line:
 * the endpoint's hot path then only parses and checks.
 */

const NEWLINE = 10;
const SPACE = 32;
const CLOSE = Buffer.from('}\n');

/** The line, as buffers to write in one go; a newline in the body can only be JSON whitespace, so it becomes a space. */
export function mlflowMetricsLine(time: number, body: Buffer): Buffer[] {
  let request = body;
  let at = body.indexOf(NEWLINE);
  if (at !== -1) {
    request = Buffer.from(body);
    for (; at !== -1; at = request.indexOf(NEWLINE, at + 1)) request[at] = SPACE;
  }
  return [Buffer.from(`{"type":"mlflow_metrics","time":${time},"request":`), request, CLOSE];
}
