// Every `mlops` command, one entry each: the usage, `mlops <command> --help` and the dispatch in
// main.ts are all read from this table. A new command is a module of its own plus one entry here
// (name, args, summary, section, details for its --help, and run).
import { Deployments } from '../core/serving/deployments';
import { auditVerifyCommand } from './audit';
import { dataCommand } from './data';
import { driftCommand } from './drift';
import { deploymentsCommand } from './deployments';
import { evaluateCommand, validateCommand } from './evaluate';
import { exportCommand } from './export';
import { importMlflowCommand } from './importMlflow';
import { loadtestCommand } from './loadtest';
import { modelsCommand } from './models';
import { monitorCommand } from './monitor';
import { notebookCommand } from './notebook';
import { pipelineDag, pipelineRun, pipelineStatusCommand } from './pipeline';
import { TO_CHANGE, TO_WRITE, withProject, withTracking } from './open';
import { reindexCommand } from './reindex';
import { reportCommand } from './report';
import { reproduceCommand } from './reproduce';
import { runCommand } from './run';
import { runsList, runsShow } from './runs';
import { serveCommand } from './serve';
import { runsCancel, targetsCommand } from './targets';
import { serverCommand } from './server';
import { sweepCommand } from './sweep';
import { snapshotCommand, snapshotsCommand } from './snapshots';
import type { Command } from './usage';
import { MlopsLayout } from '../core/workspace/layout';

const TRACKING = 'Tracking';
const DATA = 'Data and models';
const SERVING = 'Serving';
const TARGETS = 'Targets';
const VALIDATION = 'Data checks and model gates';
const MONITORING = 'Monitoring';
const PIPELINES = 'Pipelines';

const models = (sub: string) => (root: string, argv: string[]) =>
  withProject(root, (p) => modelsCommand(p, sub, argv), sub === 'list' || sub === 'lineage' ? undefined : TO_CHANGE);
const deployments = (sub: string) => async (root: string, argv: string[]) => deploymentsCommand(await Deployments.open(root), sub, argv);
const exporting = (kind: 'docker' | 'k8s') => async (root: string, argv: string[]) => exportCommand(await Deployments.open(root), kind, argv);
const snapshots = (sub: string) => (root: string, argv: string[]) => withProject(root, (p) => snapshotsCommand(p, sub, argv));

export const COMMANDS: readonly Command[] = [
  {
    name: 'run', args: '[--name N] [--experiment E] [--target T] -- <command…>', section: TRACKING,
    summary: 'run any command as a tracked run',
    details: [
      'Captures the environment, streams the output (saved as output.log), and records the end.',
      'Ctrl-C stops the command\'s whole process group and marks the run KILLED.',
      'Exit code: the command\'s own (128+N when ended by signal N).',
      '--target T runs it on a target of mlops.yaml (ssh, slurm or kubernetes): the code is shipped, output and metrics stream back, artifacts come back at the end.',
      'Example: mlops run --name baseline -- python3 train.py --lr 0.01',
    ],
    run: (root, argv) => runCommand(new MlopsLayout(root), argv),
  },
  {
    name: 'runs list', args: '[--experiment E] [--filter F] [--columns C,…] [--sort S] [--limit N] [--json]', section: TRACKING,
    summary: 'list runs, newest first',
    details: [
      '--experiment E   only the runs of experiment E',
      '--filter F       MLflow search syntax, with OR and parentheses too:',
      '                 "metrics.acc > 0.9 and params.lr = \'0.01\' and status = \'FINISHED\'"',
      '--columns C,…    add metric, param or tag columns: metrics.acc,params.lr,tags.stage',
      '                 (a bare key is a metric if a run has it, else a param, else a tag)',
      '--sort S         MLflow order_by: "metrics.acc DESC", "params.lr", "start_time ASC"; repeatable',
      '--limit N        at most N runs (after filtering and sorting)',
      '--json           the runs as JSON (docs/cli.md); with --columns, each run gets "columns"',
    ],
    run: (root, argv) => withTracking(root, (t) => runsList(t, argv)),
  },
  {
    name: 'runs show', args: '<run-id> [--json]', section: TRACKING,
    summary: 'params, latest metrics, tags, artifacts, datasets, environment',
    details: ['A unique prefix of the run id is enough.'],
    run: (root, argv) => withTracking(root, (t) => runsShow(t, argv)),
  },
  {
    name: 'notebook run', args: '<file.ipynb> [-p key=value…] [--name N] [--experiment E] [--python P | --target T] [--cell-timeout S]', section: TRACKING,
    summary: 'run a notebook headless through a Jupyter kernel as a tracked run',
    details: [
      '--target T runs it on a target of mlops.yaml with the python3 there (no Jupyter needed): code cells in order in one namespace, outputs captured, the executed notebook back as an artifact.',
      'Exit code 1 when a cell failed, naming it (docs/notebooks.md).',
    ],
    run: (root, argv) => notebookCommand(new MlopsLayout(root), 'run', argv),
  },
  {
    name: 'server', args: '[--port P]', section: TRACKING,
    summary: 'serve the MLflow-compatible endpoint; prints MLFLOW_TRACKING_URI/TOKEN exports',
    details: ['Serves tracking and the Model Registry API on 127.0.0.1 until Ctrl-C or SIGTERM (docs/mlflow.md).'],
    run: serverCommand,
  },
  {
    name: 'import-mlflow', args: '<mlruns-dir> [--json]', section: TRACKING,
    summary: 'import an MLflow file store (runs already imported are skipped)',
    run: importMlflowCommand,
  },
  {
    name: 'reindex', args: '', section: TRACKING,
    summary: 'rebuild .mlops/tracking.db from the event logs',
    run: reindexCommand,
  },
  {
    name: 'snapshot', args: '[paths…] -m MSG [--json]', section: DATA,
    summary: 'snapshot data/model paths (default: mlops.yaml\'s)',
    run: (root, argv) => withProject(root, (p) => snapshotCommand(p, argv), TO_WRITE),
  },
  { name: 'snapshots list', args: '[--json]', section: DATA, summary: 'list snapshots', run: snapshots('list') },
  { name: 'snapshots show', args: '<snapshot> [--json]', section: DATA, summary: 'the files of a snapshot', run: snapshots('show') },
  { name: 'snapshots diff', args: '<snapshot-a> <snapshot-b> [--json]', section: DATA, summary: 'files added, removed and changed between two snapshots', run: snapshots('diff') },
  {
    name: 'snapshots restore', args: '<snapshot> [--to DIR] [--yes]', section: DATA,
    summary: 'restore a snapshot (in place asks for --yes before overwriting)',
    run: snapshots('restore'),
  },
  { name: 'snapshots tag', args: '<snapshot> <name>', section: DATA, summary: 'name a snapshot', run: snapshots('tag') },
  { name: 'snapshots push', args: '<git-remote-url> [--allow-personal-data]', section: DATA, summary: 'share snapshots through a git remote (refused when their tables hold personal data, unless allowed)', run: snapshots('push') },
  { name: 'snapshots fetch', args: '<git-remote-url>', section: DATA, summary: 'fetch snapshots from a git remote', run: snapshots('fetch') },
  { name: 'models list', args: '[--json]', section: DATA, summary: 'registered models, versions and aliases', run: models('list') },
  {
    name: 'models register', args: '<path> --name N [--run R [--artifact]] [--json]', section: DATA,
    summary: 'register a file or folder as the next version of a model',
    details: ['--run R links the version to run R; with --artifact, <path> is inside that run\'s artifacts.'],
    run: models('register'),
  },
  {
    name: 'models alias', args: '<model> <alias> <version> | <model> <alias> --remove', section: DATA,
    summary: 'point an alias (champion, challenger…) at a version, or remove it',
    run: models('alias'),
  },
  { name: 'models delete', args: '<model> <version>', section: DATA, summary: 'delete a version (refused while an alias points at it)', run: models('delete') },
  { name: 'models card', args: '<model> <version|alias>', section: DATA, summary: 'write the model card (Markdown)', run: models('card') },
  { name: 'models lineage', args: '<model> <version|alias> [--json]', section: DATA, summary: 'the version\'s run, code and data, as far back as known', run: models('lineage') },
  {
    name: 'reproduce', args: '<run-id> [--json]', section: DATA,
    summary: 're-run a run from its code commit and data snapshots',
    run: (root, argv) => withProject(root, (p) => reproduceCommand(p, argv), TO_CHANGE),
  },
  {
    name: 'audit verify', args: '', section: DATA,
    summary: 'check the audit trail; a non-zero exit names the first bad entry',
    run: auditVerifyCommand,
  },
  {
    name: 'data profile', args: '<csv|jsonl|folder|snapshot> [--json]', section: VALIDATION,
    summary: 'schema and statistics of data, streamed; saved beside it (or with the snapshot)',
    details: ['Types, ranges, missing share, categories, quantiles and a sample per column (docs/validation.md).'],
    run: (root, argv) => withProject(root, (p) => dataCommand(p, 'profile', argv)),
  },
  {
    name: 'data check', args: '<data> [--against <profile.json|data|snapshot>] [--missing-jump 0.1] [--json]', section: VALIDATION,
    summary: 'type and range violations, new categories, missing-share jumps, skew, personal data',
    details: ['Without --against only personal data is checked.', 'Exit code 1 when a problem is found.'],
    run: (root, argv) => withProject(root, (p) => dataCommand(p, 'check', argv)),
  },
  {
    name: 'evaluate', args: '<model:version | model@alias | file.onnx> --data <holdout> --label <column> [--group C] [--features a,b] [--standardise norm.csv] [--task T] [--noise S] [--repeats N] [--seed N] [--json]', section: VALIDATION,
    summary: 'metrics, slices and fairness gaps, robustness, latency, feature importance: a tracked run',
    details: ['The run is linked to the version and shown in its model card (docs/validation.md).'],
    run: (root, argv) => withProject(root, (p) => evaluateCommand(p, argv), TO_CHANGE),
  },
  {
    name: 'validate', args: '<model:version> [--data <holdout> --label <column> …] [--json]', section: VALIDATION,
    summary: 'judge the gates of mlops.yaml, each ✓/✗',
    details: ['With --data the version (and the champion, for champion gates) is evaluated first.', 'Exit code 1 when a gate fails.'],
    run: (root, argv) => withProject(root, (p) => validateCommand(p, argv), TO_CHANGE),
  },
  {
    name: 'models promote', args: '<model> <version> [--to champion] [--data … --label …] [--force --reason R] [--json]', section: VALIDATION,
    summary: 'move the alias only when the gates pass (forcing needs a reason and is audited)',
    details: ['Exit code 1 when a gate fails and nothing moved.'],
    run: models('promote'),
  },
  {
    name: 'drift', args: '<reference> <current> [--column-test col=test[:threshold]…] [--window N|6h] [--json]', section: MONITORING,
    summary: 'per-column data and prediction drift of current against reference (files, snapshots, deployment:<name>)',
    details: [
      'Each side: a csv/tsv/jsonl file or folder, a snapshot (id[:path]), or deployment:<name>, a window of its prediction log (--window: rows, or 30m / 6h / 7d; default 10000 rows).',
      'Tests: ks, wasserstein, chisquare, ztest, jensenshannon, psi; by default the one the reference tool picks (docs/monitoring.md); mlops.yaml monitoring.column_tests names them too.',
      'Exit code 0 no dataset drift, 1 dataset drift, 2 when the two cannot be compared.',
    ],
    run: driftCommand,
  },
  {
    name: 'serve', args: '<model[:version|@alias] | file.onnx> [--name N] [--port P] [--max-batch N --max-delay-ms D] [--threads T] [--sample-rate R] [--normalize mean_std.csv] [--softmax] [--labels a,b] [--token] [--max-body-bytes B] [--target SSH_TARGET] [--detach]', section: SERVING,
    summary: 'deploy a model as an Open Inference Protocol + /invocations server',
    details: ['Without --detach the deployment stops with this command (Ctrl-C); with it, it keeps serving until "mlops deployments stop".'],
    run: serveCommand,
  },
  { name: 'deployments list', args: '[--json]', section: SERVING, summary: 'deployments with state, URL and what they serve', run: deployments('list') },
  { name: 'deployments show', args: '<deployment> [--json]', section: SERVING, summary: 'one deployment in full, with a curl example', run: deployments('show') },
  { name: 'deployments switch', args: '<deployment> <version|@alias> [--json]', section: SERVING, summary: 'blue/green switch: warm the new version, flip, drain the old', run: deployments('switch') },
  { name: 'deployments split', args: '<deployment> <version> --weight W [--key HEADER] | <deployment> --off', section: SERVING, summary: 'A/B split: send a weighted share of traffic to another version', run: deployments('split') },
  { name: 'deployments shadow', args: '<deployment> <version> | <deployment> --off', section: SERVING, summary: 'mirror traffic to a challenger whose answers are only logged', run: deployments('shadow') },
  { name: 'deployments stop', args: '<deployment> [--json]', section: SERVING, summary: 'stop a deployment', run: deployments('stop') },
  {
    name: 'loadtest', args: '<deployment> [--p99-ms 50] [--target-rps N] [--core-hour-usd PRICE] [--step-seconds 3] [--json]', section: SERVING,
    summary: 'capacity and cost estimate: the highest rate with p99 under the target',
    run: async (root, argv) => loadtestCommand(await Deployments.open(root), argv),
  },
  { name: 'export docker', args: '<deployment> [-o DIR] [--image NAME] [--model TARGET]', section: SERVING, summary: 'a Dockerfile with the model and the server bundle', run: exporting('docker') },
  { name: 'export k8s', args: '<deployment> [-o DIR] [--image NAME] [--model TARGET]', section: SERVING, summary: 'Kubernetes Deployment + Service and a KServe InferenceService', run: exporting('k8s') },
  { name: 'runs cancel', args: '<run-id>', section: TARGETS, summary: 'stop a run on its target (kills its process group there, or scancel)', run: runsCancel },
  { name: 'targets list', args: '[--json]', section: TARGETS, summary: 'the targets of mlops.yaml (local, ssh, slurm, kubernetes)', run: (root, argv) => targetsCommand(root, 'list', argv) },
  {
    name: 'targets test', args: '<target> [--json]', section: TARGETS, summary: 'reach a target (any type) and check what a run needs there',
    details: [
      'local, ssh: the host name, python3, tar and nvidia-smi. slurm: the same on the submit host, the GPUs per node (sinfo) and your jobs in the queue.',
      'kubernetes: the kubectl context, the nvidia.com/gpu per node, and the Jobs MLOps made. Exit code 1 when something is missing (each problem named with its fix).',
    ],
    run: (root, argv) => targetsCommand(root, 'test', argv),
  },
  {
    name: 'monitor run', args: '[deployment…] [--force] [--approve] [--json]', section: MONITORING,
    summary: 'check each deployment for drift and serving objectives; run the retraining loop where an alert fires',
    details: [
      'The loop (retrain: in mlops.yaml): snapshot data → train (a stage or a command) → register as challenger → gates → shadow or A/B → promote → blue/green switch.',
      '--force runs the loop without an alert; --approve approves a loop that asks for it (retrain.approval: manual).',
      'Exit code 0 when no alert stands (none fired, or the loop put a better version in place); 1 otherwise. For cron and CI.',
    ],
    run: (root, argv) => withProject(root, (p) => monitorCommand(p, 'run', argv), TO_CHANGE),
  },
  { name: 'monitor status', args: '[--json]', section: MONITORING, summary: 'each deployment\'s latest verdict and retraining loop', run: (root, argv) => withProject(root, (p) => monitorCommand(p, 'status', argv)) },
  {
    name: 'report', args: '<run-id… | model:version | model@alias | deployment> [-o report.html] [--json]', section: MONITORING,
    summary: 'one self-contained HTML file: runs compared, model card, gates, drift, retraining history',
    details: ['No network needed to open it (styles and charts inline, no script); small for large data (histograms, not rows).'],
    run: (root, argv) => withProject(root, (p) => reportCommand(p, argv), TO_CHANGE),
  },
  {
    name: 'targets clean', args: '<target> [--older-than-days N] [--dry-run] [--json]', section: TARGETS,
    summary: 'free a host\'s disk: job folders of this workspace\'s ended runs, then cached files no job uses',
    details: [
      'A job folder goes when its run ended at least N days ago (default 7), here and there, and its artifacts are all home.',
      'Running jobs, and folders of other workspaces sharing the workdir, are never touched. --dry-run says what would go.',
    ],
    run: (root, argv) => targetsCommand(root, 'clean', argv),
  },
  {
    name: 'targets gpus', args: '<target> [--json]', section: TARGETS, summary: 'a target\'s GPUs: nvidia-smi on a host, per node on a cluster',
    details: [
      'local, ssh: each GPU with memory, utilisation and its processes (nvidia-smi).',
      'slurm: each node with its GPUs from sinfo\'s GRES, the models, how many jobs hold, and its partitions.',
      'kubernetes: each node with its nvidia.com/gpu capacity and allocatable, and the model (label nvidia.com/gpu.product).',
    ],
    run: (root, argv) => targetsCommand(root, 'gpus', argv),
  },
  {
    name: 'sweep run', args: '<sweep> [--json]', section: TARGETS, summary: 'run a hyperparameter sweep of mlops.yaml (resumes one cut short)',
    details: [
      'Keeps up to "parallel" trials running on the sweep\'s target; each is a tracked run given its params as --name value.',
      'Methods: grid, random, tpe (Bayesian). early_stopping: {rule: median|asha, min_steps: N} stops weak trials.',
      'Run it again after an interruption: finished trials count, interrupted ones run again.',
      'Exit code: 0 when the budget is spent, 130 when stopped with mlops sweep stop.',
    ],
    run: (root, argv) => sweepCommand(root, 'run', argv),
  },
  { name: 'sweep status', args: '[<sweep>] [--json]', section: TARGETS, summary: 'trials of a sweep with their state and objective, best first marked ★', run: (root, argv) => sweepCommand(root, 'status', argv) },
  { name: 'sweep stop', args: '<sweep>', section: TARGETS, summary: 'stop a running sweep and its running trials', run: (root, argv) => sweepCommand(root, 'stop', argv) },
  {
    name: 'pipeline run', args: '[stage] [--downstream] [--parallel N] [--force] [--experiment E] [--target T] [--json]', section: PIPELINES,
    summary: 'run the out-of-date stages of mlops.yaml in dependency order',
    details: [
      'A stage whose cmd, deps and params are unchanged is skipped; its missing outs come back from the snapshot of its last run.',
      'Each stage that runs is a tracked run tagged mlops.pipeline.run; its outs are snapshotted when it succeeds.',
      '[stage]: that stage and what it depends on; with --downstream, that stage and everything after it.',
      '--parallel N   independent stages at once (default 2)      --force   run even what is up to date',
      '--target T   each stage\'s cmd runs on target T as a tracked remote run (its deps shipped with the code); its outs come back to their workspace paths.',
      'Exit code 1 when a stage failed (the stages after it do not run).',
    ],
    run: pipelineRun,
  },
  {
    name: 'pipeline status', args: '[--json]', section: PIPELINES,
    summary: 'each stage: up to date or changed, and why (which dep, param or cmd)',
    run: pipelineStatusCommand,
  },
  { name: 'pipeline dag', args: '[--mermaid]', section: PIPELINES, summary: 'the stages and what each runs after, as text or a Mermaid flowchart', run: pipelineDag },
];
