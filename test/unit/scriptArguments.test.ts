import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { launchTrackedRun } from '../../src/core/tracking/launcher';
import { hasOption, joinArguments, lastRecordedArguments, optionName, parseArgparseHelp, scriptCommand, scriptOptions, splitArguments, withOptions } from '../../src/core/tracking/scriptArguments';
import { Tracking } from '../../src/core/tracking/tracking';
import { fixtures, tmpWorkspace } from './helpers';

const help = (python: string) => fs.readFileSync(path.join(fixtures, 'argparse', `help-python${python}.txt`), 'utf8');

describe('script arguments', () => {
  it('splits what a person types as a shell would, and joins it back', () => {
    assert.deepEqual(splitArguments(`--lr 0.1  --name 'my run' --note "say \\"hi\\"" a\\ b ''`), ['--lr', '0.1', '--name', 'my run', '--note', 'say "hi"', 'a b', '']);
    assert.deepEqual(splitArguments('   '), []);
    assert.throws(() => splitArguments(`--name 'open`), /The quote ' at position 8 is never closed/);
    const argv = ['--lr', '0.1', '--name', "it's mine", '--tags', 'a b', '--empty', ''];
    assert.equal(joinArguments(argv), `--lr 0.1 --name 'it'\\''s mine' --tags 'a b' --empty ''`);
    assert.deepEqual(splitArguments(joinArguments(argv)), argv);
  });

  for (const python of ['3.8', '3.13']) {
    it(`reads the options of argparse's help (Python ${python}), with their defaults`, () => {
      const options = parseArgparseHelp(help(python));
      assert.deepEqual(options.map((o) => [optionName(o), o.metavar, o.default]), [
        ['--lr', 'LR', '0.1'],
        ['--epochs', 'EPOCHS', '30'],
        ['--optimizer', '{sgd,adam}', 'sgd'],
        ['--verbose', '', undefined],
        ['--layers', 'LAYERS [LAYERS ...]', '[64, 32]'],
        ['--seed', 'SEED', undefined],
        ['--log-every', 'LOG_EVERY', '10'],
      ]);
      const epochs = options[1];
      assert.deepEqual(epochs.flags, ['-e', '--epochs']);
      assert.equal(epochs.help, 'number of epochs to train for; more epochs overfit a small data set sooner (default: 30)');
      assert.deepEqual(options[2].choices, ['sgd', 'adam']);
    });
  }

  it('adds picked options with their defaults and removes unpicked ones, keeping other words', () => {
    const options = parseArgparseHelp(help('3.13'));
    const [lr, epochs, optimizer, verbose, layers, seed] = options;
    const args = ['data/', '-e', '5', '--verbose', '--lr=0.3', '--layers', '8', '4', '--extra'];
    assert.ok(hasOption(args, lr) && hasOption(args, epochs) && !hasOption(args, seed));
    assert.deepEqual(withOptions(args, options, [lr, layers, optimizer, seed]), ['data/', '--lr=0.3', '--layers', '8', '4', '--extra', '--optimizer', 'sgd', '--seed', 'SEED']);
    assert.deepEqual(withOptions(['data/'], options, [epochs, verbose, layers]), ['data/', '--epochs', '30', '--verbose', '--layers', '64', '32']);
  });

  it('asks a real interpreter for the options of an argparse script, and runs no other script', async () => {
    const ws = tmpWorkspace();
    const script = path.join(ws.root, 'train.py');
    fs.copyFileSync(path.join(fixtures, 'argparse', 'train_args.py'), script);
    // Logging before parse_args must not leave a run in the workspace.
    fs.writeFileSync(script, 'import mlops_workbench as mlops\nmlops.log_param("before", 1)\n' + fs.readFileSync(script, 'utf8'));
    // The client is importable, as in a tracked run.
    const options = await scriptOptions('python3', script, ws.root);
    assert.deepEqual(options.map(optionName), ['--lr', '--epochs', '--optimizer', '--verbose', '--layers', '--seed', '--log-every']);
    assert.deepEqual(fs.readdirSync(ws.runsDir), [], 'the help left no run');
    const plain = path.join(ws.root, 'plain.py');
    fs.writeFileSync(plain, `open(${JSON.stringify(path.join(ws.root, 'ran'))}, "w").close()\n`);
    assert.deepEqual(await scriptOptions('python3', plain, ws.root), []);
    assert.ok(!fs.existsSync(path.join(ws.root, 'ran')), 'a script without argparse is not run');
    assert.deepEqual(await scriptOptions('python3', path.join(ws.root, 'missing.py'), ws.root), []);
  });

  it('splits a recorded command into interpreter, its flags, the script and its arguments', () => {
    assert.deepEqual(scriptCommand(['/usr/bin/python3', '-u', 'src/train.py', '--lr', '0.1'], '/work'), { python: '/usr/bin/python3', flags: ['-u'], script: '/work/src/train.py', args: ['--lr', '0.1'] });
    assert.equal(scriptCommand(['python3', '-m', 'trainer', '--lr', '1'], '/work'), undefined);
    assert.equal(scriptCommand(['bash', 'job.sh'], '/work'), undefined);
  });

  it('finds the arguments of a script\'s latest recorded run (real runs)', async () => {
    const ws = tmpWorkspace();
    for (const name of ['train.py', 'eval.py']) fs.writeFileSync(path.join(ws.root, name), 'pass\n');
    for (const args of [['-u', 'train.py', '--lr', '0.1'], ['-u', 'train.py', '--lr', '0.3'], ['eval.py', '--split', 'test']]) {
      const run = launchTrackedRun({ layout: ws, command: 'python3', args, cwd: ws.root, source: 'command', capturePackages: false });
      await run.finished;
      await new Promise((r) => setTimeout(r, 5)); // distinct start times
    }
    const t = await Tracking.open(ws.root);
    try {
      assert.deepEqual(lastRecordedArguments(t, path.join(ws.root, 'train.py')), ['--lr', '0.3']);
      assert.deepEqual(lastRecordedArguments(t, path.join(ws.root, 'eval.py')), ['--split', 'test']);
      assert.equal(lastRecordedArguments(t, path.join(ws.root, 'other.py')), undefined);
    } finally {
      t.close();
    }
  });
});
