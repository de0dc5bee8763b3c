/** A mistake in how the CLI was called: printed with the usage hint, exit code 2. */
export class UsageError extends Error {}

export const USAGE = `mlops — MLOps Workbench on the command line

Usage:
  mlops run [--name N] [--experiment E] -- <command…>   run any command as a tracked run
  mlops run --target T -- <command…>                    the same on a target from mlops.yaml (ssh or slurm: code shipped, output streamed back)
  mlops runs list [--experiment E] [--json]             list runs, newest first
  mlops runs show <run-id> [--json]                     params, latest metrics, artifacts, capture
  mlops runs cancel <run-id>                            stop a run on its target (kills its process group there)
  mlops notebook run <file.ipynb> [-p key=value…] [--name N] [--experiment E] [--python P] [--cell-timeout S]
                                                        run a notebook headless through a Jupyter kernel as a tracked run
  mlops server [--port P]                               serve the MLflow-compatible endpoint; prints MLFLOW_TRACKING_URI/TOKEN exports
  mlops import-mlflow <mlruns-dir> [--json]             import an MLflow file store (runs already imported are skipped)
  mlops reindex                                         rebuild .mlops/tracking.db from the event logs

  mlops snapshot [paths…] -m MSG                        snapshot data/model paths (default: mlops.yaml's)
  mlops snapshots list|show ID|diff A B [--json]        list, inspect and compare snapshots
  mlops snapshots restore ID [--to DIR] [--yes]         restore (in place asks for --yes before overwriting)
  mlops snapshots tag ID NAME | push URL | fetch URL    name a snapshot; share through a git remote
  mlops models list [--json]                            registered models, versions and aliases
  mlops models register PATH --name N [--run R [--artifact]]
  mlops models alias N ALIAS VERSION | delete N VERSION
  mlops models card N VERSION | lineage N VERSION [--json]
  mlops reproduce RUN [--json]                          re-run a run from its code commit and data snapshots
  mlops targpus list | test T | gpus T [--json]          targpus from mlops.yaml; check one; its GPUs and their processes
  mlops audit verify                                    check the audit trail; non-zero exit names the first bad entry

Options:
  --workspace DIR   the project folder (default: the nearest folder upwards with .mlops/ or mlops.yaml)
  --help, -h        this text
  --version         the version

Exit codes: 0 success; for "run", the command's own exit code; for "notebook run", 1 when a cell failed; 2 usage errors.`;
