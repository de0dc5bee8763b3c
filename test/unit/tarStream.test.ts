import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { tarStream } from '../../src/core/compute/tarStream';
import { untar } from '../../src/core/compute/untar';

async function archive(entries: Parameters<typeof tarStream>[0]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarStream(entries)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('the tar stream a job is shipped in', () => {
  it('stays a whole archive that tar unpacks when a listed file was deleted before it was sent', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-tar-'));
    try {
      fs.writeFileSync(path.join(dir, 'kept.py'), 'print("kept")\n');
      const tarFile = path.join(dir, 'job.tar');
      fs.writeFileSync(tarFile, await archive([
        { name: 'code/gone.csv', file: path.join(dir, 'gone.csv') },
        { name: 'code/kept.py', file: path.join(dir, 'kept.py') },
      ]));
      const out = path.join(dir, 'out');
      fs.mkdirSync(out);
      const tar = spawnSync('tar', ['-xf', tarFile, '-C', out], { encoding: 'utf8' });
      assert.equal(tar.status, 0, tar.stderr);
      assert.equal(fs.readFileSync(path.join(out, 'code', 'kept.py'), 'utf8'), 'print("kept")\n');
      assert.equal(fs.statSync(path.join(out, 'code', 'gone.csv')).size, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('unpacking an archive that comes in pieces (the artifacts a job sends home)', () => {
  it('says it unpacked the archive when tar left at the archive\'s end before its input was closed', { timeout: 20_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-untar-'));
    try {
      // Made as the job's runner.py makes it (Python's tarfile), padded to whole 10 KiB records as GNU tar's are.
      const made = spawnSync('python3', ['-c', 'import io, sys, tarfile\nwith tarfile.open(fileobj=sys.stdout.buffer, mode="w|") as t:\n  i = tarfile.TarInfo("artifacts/model.txt"); i.size = 8; t.addfile(i, io.BytesIO(b"weights\\n"))\n']);
      assert.equal(made.status, 0, String(made.stderr));
      const unpacking = untar(dir);
      unpacking.input.write(made.stdout);
      // GNU tar exits once it reads the end of such an archive; the sender's end-of-stream comes after.
      await once(unpacking.child, 'close');
      unpacking.input.end();
      assert.equal(await unpacking.done, true);
      assert.equal(fs.readFileSync(path.join(dir, 'artifacts', 'model.txt'), 'utf8'), 'weights\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says it did not when the archive was cut off', { timeout: 20_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-untar-'));
    try {
      const unpacking = untar(dir);
      unpacking.input.end((await archive([{ name: 'artifacts/model.txt', text: 'weights\n'.repeat(200) }])).subarray(0, 700));
      assert.equal(await unpacking.done, false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
