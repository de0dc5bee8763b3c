/** A mistake in how the CLI was called: printed with the usage hint, exit code 2. */
export class UsageError extends Error {}

export const USAGE = `mlops — MLOps Workbench on the command line

Usage:
  mlops run [--name N] [--experiment E] -- <command…>   run any command as a tracked run
  mlops runs list [--experiment E] [--json]             list runs, newest first
  mlops runs show <run-id> [--json]                     params, latest metrics, artifacts, capture
  mlops reindex                                         rebuild .mlops/tracking.db from the event logs

Options:
  --workspace DIR   the project folder (default: the nearest folder upwards with .mlops/ or mlops.yaml)
  --help, -h        this text
  --version         the version

Exit codes: 0 success; for "run", the command's own exit code; 2 usage errors.`;
