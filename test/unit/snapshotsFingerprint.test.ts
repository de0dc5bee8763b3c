// A pipeline's status hashes files through the snapshot store's stat cache without storing
// them (SnapshotStore.fingerprint); a snapshot taken afterwards must still store their blobs,
// or it names objects the store does not hold (found when the retraining loop's drift check
// read a pipeline stage's deps snapshot).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { it } from 'node:test';
import { SnapshotStore } from '../../src/core/snapshots';
import { tmpWorkspace } from './helpers';

it('a snapshot after fingerprint() stores every blob it names', async () => {
  const layout = tmpWorkspace();
  fs.mkdirSync(path.join(layout.root, 'data'));
  fs.writeFileSync(path.join(layout.root, 'data', 'train.csv'), 'a,b\n1,2\n');
  const store = await SnapshotStore.open(layout);
  await store.fingerprint(['data']);
  const info = await store.snapshot(['data'], { message: 'deps' });
  assert.equal(Buffer.from(await store.readFile(info.id, 'data/train.csv')).toString(), 'a,b\n1,2\n');
});
