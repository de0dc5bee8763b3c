// Where a remote run's new follower starts after the last one was killed, and which event lines it
// must not append again: those the killed follower wrote after its last save of the offsets.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { resumePoint, writeOffsets, WrittenLines } from '../../src/core/compute/followState';

describe('WrittenLines', () => {
  it('matches the lines sent again in order, once each, passing over lines other writers added between', () => {
    const written = new WrittenLines(['a\n', 'tag\n', 'a\n', 'b\n']);
    assert.deepEqual(['a\n', 'a\n', 'b\n'].map((l) => written.take(l)), [true, true, true], 'a line written twice is matched twice');
    assert.equal(written.take('a\n'), false, 'a third a is new');
  });

  it('stops matching at the first line that was not written, so later repeats of an old line are appended', () => {
    const written = new WrittenLines(['a\n', 'b\n']);
    assert.equal(written.take('c\n'), false);
    assert.equal(written.take('a\n'), false);
  });
});

describe('resumePoint', () => {
  it('starts the output where the local output log ends and returns the event lines written since the save', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-follow-'));
    const [events, output] = [path.join(dir, 'events.jsonl'), path.join(dir, 'output.log')];
    fs.writeFileSync(events, '{"type":"run_start"}\n');
    fs.writeFileSync(output, 'epoch 0\n');
    writeOffsets(dir, { events: 100, output: 8 }, events);
    fs.appendFileSync(events, '{"type":"metric","step":1}\n');
    fs.appendFileSync(output, 'epoch 1\n'); // written, then killed before the next save

    const { offsets, written } = resumePoint(dir, events, output);
    assert.deepEqual({ events: offsets.events, output: offsets.output }, { events: 100, output: 16 });
    assert.equal(written.take('{"type":"metric","step":1}\n'), true);
    assert.equal(resumePoint(dir, events, output).written.take('{"type":"run_start"}\n'), false, 'lines from before the save are not matched');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts from nothing when no follower saved and no output came', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-follow-'));
    const { offsets, written } = resumePoint(dir, path.join(dir, 'events.jsonl'), path.join(dir, 'output.log'));
    assert.deepEqual({ events: offsets.events, output: offsets.output }, { events: 0, output: 0 });
    assert.equal(written.take('x\n'), false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
