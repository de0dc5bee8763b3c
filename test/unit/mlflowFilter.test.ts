// MLflow's search filter and order_by syntax (src/core/query/searchFilter.ts): parsing into a
// plain AST, clear INVALID_PARAMETER_VALUE errors, matching and ordering runs.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareRuns, FilterError, matchRun, parseExperimentFilter, parseOrderBy, parseRunFilter, referencedKeys, type RunView,
} from '../../src/core/query/searchFilter';

function run(partial: Partial<RunView> & { id?: string; start?: number } = {}): RunView {
  return {
    params: partial.params ?? {}, metrics: partial.metrics ?? {}, tags: partial.tags ?? {},
    attributes: { run_id: partial.id ?? 'r1', run_name: 'train', status: 'FINISHED', start_time: partial.start ?? 1000, end_time: 2000, user_id: 'ana', artifact_uri: 'mlflow-artifacts:/0/r1/artifacts', ...partial.attributes },
    ...(partial.datasets ? { datasets: partial.datasets } : {}),
  };
}

function rejects(text: string, pattern: RegExp, dialect?: 'workbench'): void {
  assert.throws(() => parseRunFilter(text, { dialect }), (err: unknown) => {
    assert.ok(err instanceof FilterError, `${text}: ${String(err)}`);
    assert.match(err.message, pattern, text);
    return true;
  });
}

describe('MLflow search filter: parsing', () => {
  it('parses the MLflow examples into a plain AST', () => {
    assert.deepEqual(parseRunFilter("metrics.x > 0.9 and params.lr = '0.01' and tags.t != 'a' and attributes.status = 'FINISHED'"), {
      kind: 'and',
      clauses: [
        { kind: 'compare', entity: 'metric', key: 'x', op: '>', value: 0.9 },
        { kind: 'compare', entity: 'param', key: 'lr', op: '=', value: '0.01' },
        { kind: 'compare', entity: 'tag', key: 't', op: '!=', value: 'a' },
        { kind: 'compare', entity: 'attribute', key: 'status', op: '=', value: 'FINISHED' },
      ],
    });
    assert.equal(parseRunFilter(''), undefined);
    assert.equal(parseRunFilter('   '), undefined);
    assert.equal(parseRunFilter(undefined), undefined);
  });

  it('accepts entity aliases, quoted and backticked keys, dotted tag keys and attribute aliases', () => {
    const one = (text: string) => parseRunFilter(text) as { entity: string; key: string; op: string; value: unknown };
    assert.deepEqual(one('metric.`val loss` <= -1.5e-3'), { kind: 'compare', entity: 'metric', key: 'val loss', op: '<=', value: -0.0015 });
    assert.deepEqual(one('params."batch size" = "32"'), { kind: 'compare', entity: 'param', key: 'batch size', op: '=', value: '32' });
    assert.equal(one("tags.mlflow.runName ILIKE '%lenet%'").key, 'mlflow.runName');
    assert.equal(one("tag.'odd key' = 'x'").key, 'odd key');
    assert.deepEqual(one('created >= 1700000000000'), { kind: 'compare', entity: 'attribute', key: 'start_time', op: '>=', value: 1700000000000 });
    assert.equal(one("attributes.`Run Name` = 'a'").key, 'run_name');
    assert.equal(one("run.status = 'RUNNING'").entity, 'attribute');
    assert.equal(one("status = 'RUNNING'").key, 'status');
    assert.equal(one('metrics.val/loss < 1').key, 'val/loss');
    assert.equal(one("params.lr = 'it''s'").value, "it's");
    assert.equal(one("params.lr = 'it\\'s'").value, "it's");
    assert.deepEqual(one("attributes.run_id IN ('a1', 'b2')").value, ['a1', 'b2']);
    assert.equal(one("attributes.run_id NOT IN ('a1')").op, 'NOT IN');
    assert.equal(one("datasets.name LIKE 'mnist%'").entity, 'dataset');
    assert.equal(one("params.a like 'x'").op, 'LIKE', 'keywords are case-insensitive');
  });

  it('says what is wrong, and where, as INVALID_PARAMETER_VALUE', () => {
    rejects("params.lr = 'open", /quote opened here is never closed at character 13/);
    rejects("params.a = '1' or params.b = '2'", /OR is not supported; MLflow filters join comparisons with AND only/);
    rejects("(params.a = '1')", /parentheses are only allowed around an IN list/);
    rejects("params.lr > '1'", /invalid comparator '>' for param 'lr'; use one of =, !=, LIKE, ILIKE/);
    rejects("metrics.acc = 'high'", /expected a number for metric 'acc'/);
    rejects('params.lr = 0.1', /expected a quoted string value for param 'lr'/);
    rejects("colors.red = 'x'", /invalid entity type 'colors'/);
    rejects("attributes.color = 'x'", /invalid attribute key 'color'; valid keys are run_id, run_name/);
    rejects("params.lr = '1' extra", /expected AND or the end of the filter, found "extra"/);
    rejects("metrics. > 1", /"metrics\." needs a key after the dot/);
    rejects("params.a IN ('1')", /does not support IN; only the 'run_id' attribute/);
    rejects('metrics.a >> 1', /expected a number for metric 'a', found ">"/);
    rejects('metrics.a == 1', /"==" is not a comparison here/);
    rejects("attributes.start_time > 1.5", /expected an integer \(milliseconds\)/);
    rejects("attributes.run_id IN ('a', )", /expected a quoted string in the list/);
    rejects("params.a = '1' and", /expected a column such as metrics/);
    rejects('metrics.a > 1 ; drop table runs', /unexpected character ";"/);
    rejects("datasets.size = '1'", /invalid dataset key 'size'/);
  });

  it('the workbench dialect adds OR, parentheses and IN on every string field', () => {
    const ast = parseRunFilter("(params.opt IN ('adam', 'sgd') or tags.t = 'x') and metrics.acc > 0.5", { dialect: 'workbench' });
    assert.equal(ast?.kind, 'and');
    assert.ok(matchRun(ast, run({ params: { opt: 'sgd' }, metrics: { acc: 0.7 } })));
    assert.ok(!matchRun(ast, run({ params: { opt: 'rmsprop' }, metrics: { acc: 0.7 } })));
    assert.ok(matchRun(ast, run({ tags: { t: 'x' }, metrics: { acc: 0.9 } })));
    rejects('metrics.a IN (1)', /invalid comparator 'IN' for metric 'a'/, 'workbench');
  });

  it('parses experiment filters (name, tags, times)', () => {
    assert.deepEqual(parseExperimentFilter("name LIKE 'mn%' and tags.team = 'v' and creation_time > 5"), {
      kind: 'and',
      clauses: [
        { kind: 'compare', entity: 'attribute', key: 'name', op: 'LIKE', value: 'mn%' },
        { kind: 'compare', entity: 'tag', key: 'team', op: '=', value: 'v' },
        { kind: 'compare', entity: 'attribute', key: 'creation_time', op: '>', value: 5 },
      ],
    });
    assert.throws(() => parseExperimentFilter("params.a = '1'"), /invalid entity type 'params'/);
  });

  it('refuses absurdly long filters instead of working on them', () => {
    assert.throws(() => parseRunFilter(`params.a = '${'x'.repeat(200_000)}'`), /at most 100000 are accepted/);
  });
});

describe('MLflow search filter: matching', () => {
  it('compares metrics as numbers, params, tags and attributes as strings', () => {
    const r = run({ params: { lr: '0.01' }, metrics: { acc: 0.93, loss: NaN }, tags: { stage: 'dev' } });
    const yes = (f: string) => assert.ok(matchRun(parseRunFilter(f), r), f);
    const no = (f: string) => assert.ok(!matchRun(parseRunFilter(f), r), f);
    yes('metrics.acc > 0.9');
    yes('metrics.acc >= 0.93 and metrics.acc <= 0.93 and metrics.acc = 0.93');
    no('metrics.acc < 0.9');
    no('metrics.loss > 0');
    no('metrics.loss = 0');
    yes('metrics.loss != 0');
    yes("params.lr = '0.01'");
    no("params.lr = '0.010'");
    yes("tags.stage != 'prod'");
    yes("attributes.status = 'FINISHED' and attributes.start_time < 1500 and attributes.user_id = 'ana'");
    no("attributes.end_time > 5000");
  });

  it('never matches a missing key, not even with !=', () => {
    const r = run();
    for (const f of ["params.missing != 'x'", "tags.missing != 'x'", 'metrics.missing != 1', "params.missing LIKE '%'"]) assert.ok(!matchRun(parseRunFilter(f), r), f);
  });

  it('LIKE is case-sensitive, ILIKE not, and only % and _ are wildcards', () => {
    const r = run({ params: { model: 'ResNet-50 (v1.5)' } });
    const yes = (f: string) => assert.ok(matchRun(parseRunFilter(f), r), f);
    const no = (f: string) => assert.ok(!matchRun(parseRunFilter(f), r), f);
    yes("params.model LIKE 'ResNet%'");
    no("params.model LIKE 'resnet%'");
    yes("params.model ILIKE 'resnet%'");
    yes("params.model LIKE 'ResNet-5_ (v1.5)'");
    no("params.model LIKE 'ResNet-50 .v1.5.'");
    yes("params.model LIKE '%(v1.5)'");
    no("params.model LIKE 'ResNet'");
  });

  it('matches run ids in lists and dataset keys', () => {
    const r = run({ id: 'abc', datasets: [{ name: 'mnist', digest: 'd1', context: 'train' }] });
    assert.ok(matchRun(parseRunFilter("attributes.run_id IN ('x', 'abc')"), r));
    assert.ok(!matchRun(parseRunFilter("attributes.run_id NOT IN ('abc')"), r));
    assert.ok(matchRun(parseRunFilter("datasets.context = 'train' and datasets.name LIKE 'mn%'"), r));
    assert.ok(!matchRun(parseRunFilter("datasets.digest = 'nope'"), r));
  });

  it('names the keys a filter and an ordering read', () => {
    const keys = referencedKeys(parseRunFilter("metrics.a > 1 and params.b = 'x' and tags.c = 'y'"), [parseOrderBy('metrics.d DESC')]);
    assert.deepEqual([[...keys.metric], [...keys.param], [...keys.tag]], [['a', 'd'], ['b'], ['c']]);
  });
});

describe('MLflow order_by', () => {
  it('parses keys and directions', () => {
    assert.deepEqual(parseOrderBy('metrics.acc DESC'), { entity: 'metric', key: 'acc', ascending: false });
    assert.deepEqual(parseOrderBy('params.`batch size`'), { entity: 'param', key: 'batch size', ascending: true });
    assert.deepEqual(parseOrderBy('start_time asc'), { entity: 'attribute', key: 'start_time', ascending: true });
    assert.deepEqual(parseOrderBy('created DESC'), { entity: 'attribute', key: 'start_time', ascending: false });
    for (const bad of ['', 'metrics.acc SIDEWAYS', 'metrics.acc DESC extra', "datasets.name", 'attributes.colour']) {
      assert.throws(() => parseOrderBy(bad), FilterError, bad);
    }
  });

  it('puts missing values and NaN last in both directions, then start_time descending, then run_id', () => {
    const runs = [
      run({ id: 'a', metrics: { acc: 0.5 }, start: 1 }),
      run({ id: 'b', metrics: {}, start: 2 }),
      run({ id: 'c', metrics: { acc: NaN }, start: 3 }),
      run({ id: 'd', metrics: { acc: 0.9 }, start: 4 }),
      run({ id: 'e', metrics: { acc: 0.5 }, start: 5 }),
    ];
    const order = (clause: string) => [...runs].sort((x, y) => compareRuns(x, y, [parseOrderBy(clause)])).map((r) => r.attributes.run_id);
    assert.deepEqual(order('metrics.acc DESC'), ['d', 'e', 'a', 'c', 'b']);
    assert.deepEqual(order('metrics.acc ASC'), ['e', 'a', 'd', 'c', 'b']);
    assert.deepEqual([...runs].sort((x, y) => compareRuns(x, y, [])).map((r) => r.attributes.run_id), ['e', 'd', 'c', 'b', 'a']);
  });
  it('compares params as numbers in the workbench dialect when the value is a number', () => {
    const run = (lr: string) => ({ params: { lr }, metrics: {}, tags: {}, attributes: {} });
    const node = parseRunFilter('params.lr < 0.01', { dialect: 'workbench' });
    assert.equal(matchRun(node, run('0.001')), true);
    assert.equal(matchRun(node, run('0.1')), false);
    assert.equal(matchRun(node, run('adam')), false, 'a param that is not a number never matches');
    assert.throws(() => parseRunFilter('params.lr < 0.01'), /invalid comparator '<' for param 'lr'/, 'MLflow itself compares params as strings');
  });
});
