import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { tarStream } from '../../src/core/compute/tarStream';

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
