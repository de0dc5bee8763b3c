import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import * as esbuild from 'esbuild';
import { snapshotsGitDir, statCacheFile } from '../../src/core/snapshots';
import { StatCache } from '../../src/core/snapshots/statCache';
import type { MlopsLayout } from '../../src/core/workspace/layout';

/** Writes files (path → content) under a folder, creating parents. */
export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

/** Runs the real git CLI; returns stdout, failing the test with stderr on a non-zero exit. */
export function gitCli(args: string[], cwd?: string): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `git ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** The workspace's stat cache as saved on disk (its store id read with the git CLI). */
export function savedStatCache(layout: MlopsLayout): StatCache {
  const storeId = gitCli(['--git-dir', snapshotsGitDir(layout), 'config', 'mlops.storeid']).trim();
  return StatCache.load(statCacheFile(layout), storeId);
}

/** `git fsck --strict` of a workspace's snapshot store must pass, with nothing missing or broken. */
export function assertFsck(layout: MlopsLayout): void {
  const r = spawnSync('git', ['--git-dir', snapshotsGitDir(layout), 'fsck', '--strict', '--no-progress'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `git fsck --strict failed:\n${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /missing|broken|error|bad/i);
}

/** Temp files a writer may leave in the object store (there must be none after any operation). */
export function tempFilesIn(layout: MlopsLayout): string[] {
  const objects = path.join(snapshotsGitDir(layout), 'objects');
  const found: string[] = [];
  for (const dir of [objects, path.join(objects, 'pack')]) {
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) if (/tmp/.test(name)) found.push(path.join(dir, name));
  }
  return found;
}

/** Every ref of the store with its value (to show an operation changed none). */
export function refsOf(layout: MlopsLayout): string {
  return gitCli(['--git-dir', snapshotsGitDir(layout), 'for-each-ref', '--format=%(refname) %(objectname)']);
}

export interface GitHttpServer {
  url(repo: string): string;
  close(): Promise<void>;
}

/**
 * A smart-HTTP git server on 127.0.0.1: a Node http server that runs `git http-backend` as a
 * CGI program per request (GIT_PROJECT_ROOT = `root`), parsing its CGI headers.
 */
export async function startGitHttpServer(root: string): Promise<GitHttpServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let end = head.indexOf('\r\n\r\n');
      let sep = 4;
      if (end < 0) {
        end = head.indexOf('\n\n');
        sep = 2;
      }
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + sep));
    });
    let stderr = '';
    cgi.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    cgi.on('close', (code) => {
      if (!headersDone) {
        res.writeHead(500);
        res.write(stderr);
      } else if (code !== 0 && stderr) {
        process.stderr.write(`git http-backend: ${stderr}`);
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (repo) => `http://127.0.0.1:${port}/${repo}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A bare repository under `root` that accepts pushes over HTTP. */
export function bareRemote(root: string, name: string): string {
  const dir = path.join(root, name);
  gitCli(['init', '-q', '--bare', dir]);
  gitCli(['--git-dir', dir, 'config', 'http.receivepack', 'true']);
  return dir;
}

/**
 * Runs `script` (node -e; the store and MlopsLayout come from require(process.env.STORE_BUNDLE),
 * argv[1] is the workspace, then `args`) as a user file permissions apply to: "nobody" when the
 * tests run as root (root reads everything), else this user. `lock` runs just before, after the
 * workspace was opened up to that user (so it can take away access from what it must not read).
 * Returns the script's stdout.
 */
export function runStoreAsUser(root: string, script: string, args: string[], lock: () => void): string {
  const storeModule = path.join(__dirname, '..', '..', 'src', 'core', 'snapshots', 'index.js');
  const layoutModule = path.join(__dirname, '..', '..', 'src', 'core', 'workspace', 'layout.js');
  // "nobody" cannot read a checkout under a private folder (mktemp -d makes 0700): it gets the
  // store as one bundle in a folder anyone can read.
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-store-bundle-'));
  after(() => fs.rmSync(bundleDir, { recursive: true, force: true }));
  fs.chmodSync(bundleDir, 0o755);
  const bundle = path.join(bundleDir, 'store.js');
  esbuild.buildSync({
    stdin: { contents: `module.exports = { ...require(${JSON.stringify(storeModule)}), ...require(${JSON.stringify(layoutModule)}) };`, resolveDir: __dirname },
    bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'silent',
  });
  fs.chmodSync(bundle, 0o644);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // A workspace "nobody" may write.
    const openUp = (dir: string): void => {
      fs.chmodSync(dir, 0o777);
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) openUp(p);
        else if (e.isFile()) fs.chmodSync(p, 0o666);
      }
    };
    openUp(root);
  }
  lock();
  const r = spawnSync(process.execPath, ['-e', script, root, ...args], {
    encoding: 'utf8', cwd: '/', env: { ...process.env, STORE_BUNDLE: bundle }, ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}
