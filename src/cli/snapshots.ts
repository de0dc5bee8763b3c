import { parseArgs } from 'node:util';
import { formatBytes, formatTime } from '../core/format';
import type { Project } from '../core/project';
import type { SnapshotProgress } from '../core/snapshots';
import { readProjectConfig } from '../core/workspace/config';
import { oneLine, print, printError, printJson, printProgress, table } from './output';
import { UsageError, wrongArguments } from './usage';

function progress(p: SnapshotProgress): void {
  if (!process.stderr.isTTY) return;
  const of = p.totalFiles !== undefined ? `/${p.totalFiles}` : '';
  printProgress(`${p.phase}: ${p.files}${of} files, ${formatBytes(p.bytes)}   `);
}

/** `mlops snapshot [paths…] -m MSG`: the configured data and model paths when none are given. */
export async function snapshotCommand(project: Project, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { message: { type: 'string', short: 'm' }, json: { type: 'boolean' } }, allowPositionals: true });
  const config = readProjectConfig(project.layout.root);
  const paths = positionals.length ? positionals : [...config.data, ...config.models];
  if (!paths.length) throw new UsageError('Name the files or folders to snapshot (mlops snapshot data/ -m "raw data"), or list them under data: and models: in mlops.yaml.');
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const info = await project.snapshot(paths, { message: values.message ?? `Snapshot of ${paths.join(', ')}`, onProgress: progress, signal: controller.signal });
  if (process.stderr.isTTY) printError('\n');
  if (values.json) printJson(info);
  else print(`Snapshot ${info.id}: ${info.fileCount} files, ${formatBytes(info.totalBytes)}\n`);
  return 0;
}

export async function snapshotsCommand(project: Project, sub: string | undefined, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, to: { type: 'string' }, yes: { type: 'boolean', short: 'y' }, 'allow-personal-data': { type: 'boolean' } },
    allowPositionals: true,
  });
  const need = (n: number) => {
    if (positionals.length !== n) throw wrongArguments();
  };
  switch (sub) {
    case 'list': {
      const list = await project.snapshots.list();
      if (values.json) printJson(list);
      else if (!list.length) print('No snapshots yet. Take one with: mlops snapshot data/ -m "raw data"\n');
      else print(table(['ID', 'TIME', 'FILES', 'SIZE', 'TAGS', 'MESSAGE'], list.map((s) => [
        s.id.slice(0, 12), formatTime(s.time), String(s.fileCount), formatBytes(s.totalBytes), s.tags.join(','), s.message.split('\n')[0],
      ])));
      return 0;
    }
    case 'show': {
      need(1);
      const shown = await project.snapshots.show(positionals[0]);
      if (values.json) printJson(shown);
      else {
        const { info, files } = shown;
        print(`Snapshot ${info.id}\n  ${oneLine(info.message.split('\n')[0])}\n  ${formatTime(info.time)} by ${oneLine(info.author)}\n  paths: ${info.paths.map(oneLine).join(', ')}\n\n`);
        print(table(['SIZE', 'PATH'], files.map((f) => [formatBytes(f.size), f.path])));
        print(`\n${info.fileCount} files, ${formatBytes(info.totalBytes)} in total\n`);
      }
      return 0;
    }
    case 'diff': {
      need(2);
      const diff = await project.snapshots.diff(positionals[0], positionals[1]);
      if (values.json) printJson(diff);
      else {
        const rows = [
          ...diff.added.map((f) => ['added', f.path, '', formatBytes(f.size)]),
          ...diff.removed.map((f) => ['removed', f.path, formatBytes(f.size), '']),
          ...diff.changed.map((c) => ['changed', c.path, formatBytes(c.before.size), formatBytes(c.after.size)]),
        ];
        print(rows.length ? table(['CHANGE', 'PATH', 'BEFORE', 'AFTER'], rows) : 'The two snapshots hold the same files.\n');
      }
      return 0;
    }
    case 'restore': {
      need(1);
      const result = await project.restore(positionals[0], { to: values.to, overwrite: values.yes });
      if (result.wouldOverwrite.length) {
        printError(`Restoring would overwrite ${result.wouldOverwrite.length} changed file(s):\n${result.wouldOverwrite.map((f) => `  ${oneLine(f)}`).join('\n')}\nNothing was written. Run again with --yes to overwrite them, or use --to DIR to restore elsewhere.\n`);
        return 1;
      }
      print(`Restored ${result.written.length} file(s)${values.to ? ` into ${values.to}` : ''}.\n`);
      return 0;
    }
    case 'tag':
      need(2);
      await project.tag(positionals[0], positionals[1]);
      print(`Tagged ${positionals[0]} as ${positionals[1]}.\n`);
      return 0;
    case 'push':
      need(1);
      await project.push(positionals[0], undefined, { allowPersonalData: values['allow-personal-data'] });
      print(`Pushed snapshots to ${positionals[0]}.\n`);
      return 0;
    case 'fetch': {
      need(1);
      const ids = await project.fetch(positionals[0]);
      print(`Fetched ${ids.length} snapshot(s).\n`);
      return 0;
    }
    default:
      throw new UsageError(`Unknown "snapshots ${sub ?? ''}": use list, show, diff, restore, tag, push or fetch.`);
  }
}
