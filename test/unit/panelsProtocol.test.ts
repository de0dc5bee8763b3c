// The panels' message layer (src/protocol/rpc.ts) and HTML shell (CSP, nonce).
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromWire, toWire } from '../../src/protocol/common';
import { Endpoint, isEnvelope, type Envelope } from '../../src/protocol/rpc';
import { contentSecurityPolicy, makeNonce, panelHtml } from '../../src/extension/panels/html';

type HostReq = { 'add': { params: { a: number; b: number }; result: number }; 'fail': { params: Record<string, never>; result: void } };
type HostNotify = { 'tick': { n: number } };
type ViewReq = { 'ping': { params: { text: string }; result: string } };

/** Two endpoints wired together through JSON, asynchronously, as a webview and its host are. */
function pair(options: { timeoutMs?: number; dropToHost?: boolean } = {}) {
  const problems: string[] = [];
  const ticks: number[] = [];
  let readyPanel = '';
  const wire = (target: () => Endpoint<any, any, any, any>, drop = false) => (m: Envelope) => {
    const text = JSON.stringify(m);
    if (!drop) setImmediate(() => target().receive(JSON.parse(text)));
  };
  const host = new Endpoint<ViewReq, HostNotify, HostReq, Record<string, never>>({
    post: wire(() => view),
    requests: {
      add: ({ a, b }) => a + b,
      fail: () => {
        throw new Error('no such run');
      },
    },
    onReady: (panel) => (readyPanel = panel),
    onProblem: (p) => problems.push(p),
    timeoutMs: options.timeoutMs,
  });
  const view: Endpoint<HostReq, Record<string, never>, ViewReq, HostNotify> = new Endpoint<HostReq, Record<string, never>, ViewReq, HostNotify>({
    post: wire(() => host, options.dropToHost),
    requests: { ping: async ({ text }) => `pong ${text}` },
    notifications: { tick: ({ n }) => void ticks.push(n) },
    onProblem: (p) => problems.push(p),
    timeoutMs: options.timeoutMs,
  });
  return { host, view, problems, ticks, ready: () => readyPanel };
}

describe('panel messages: request/reply by id, notifications, ready', () => {
  it('matches replies to requests by id, in both directions, even when answered out of order', async () => {
    const { host, view } = pair();
    const [x, y, z] = await Promise.all([view.request('add', { a: 1, b: 2 }), view.request('add', { a: 10, b: 20 }), host.request('ping', { text: 'hi' })]);
    assert.equal(x, 3);
    assert.equal(y, 30);
    assert.equal(z, 'pong hi');
    assert.equal(view.pendingCount, 0);
  });

  it('a handler that throws rejects the request with its message', async () => {
    const { view } = pair();
    await assert.rejects(view.request('fail', {}), /no such run/);
  });

  it('an unknown method is answered with an error, not silence', async () => {
    const { view } = pair();
    await assert.rejects((view as unknown as Endpoint<{ nope: { params: object; result: void } }, never, never, never>).request('nope', {}), /unknown request "nope"/);
  });

  it('does not dispatch to inherited properties (no prototype tricks)', async () => {
    const { view } = pair();
    await assert.rejects((view as unknown as Endpoint<{ toString: { params: object; result: void } }, never, never, never>).request('toString', {}), /unknown request/);
  });

  it('delivers notifications and the ready handshake', async () => {
    const p = pair();
    p.view.ready('runsTable');
    p.host.notify('tick', { n: 7 });
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(p.ready(), 'runsTable');
    assert.deepEqual(p.ticks, [7]);
  });

  it('a request with no reply times out instead of waiting for ever', async () => {
    const { view } = pair({ timeoutMs: 30, dropToHost: true });
    await assert.rejects(view.request('add', { a: 1, b: 1 }), /no reply to "add" within 30 ms/);
    assert.equal(view.pendingCount, 0);
  });

  it('cancelPending and close reject what is waiting (a panel that reloads or closes)', async () => {
    const { view } = pair({ dropToHost: true });
    const waiting = view.request('add', { a: 1, b: 1 });
    view.cancelPending('the panel was hidden');
    await assert.rejects(waiting, /the panel was hidden/);
    view.close();
    await assert.rejects(view.request('add', { a: 1, b: 1 }), /closed/);
  });

  it('ignores messages that are not envelopes and says so', () => {
    const { host, problems } = pair();
    for (const junk of [null, 42, 'x', { kind: 'request' }, { kind: 'reply', id: 'a', ok: true }, { kind: 'other' }]) assert.equal(host.receive(junk), false);
    assert.equal(problems.length, 6);
    assert.ok(isEnvelope({ kind: 'notify', method: 'm', params: null }));
    assert.ok(!isEnvelope({ kind: 'reply', id: 1, ok: false }));
  });

  it('carries NaN and infinities as strings (JSON has no literal for them)', () => {
    for (const v of [1.5, 0, -2]) assert.equal(fromWire(toWire(v)), v);
    assert.equal(toWire(NaN), 'NaN');
    assert.ok(Number.isNaN(fromWire(JSON.parse(JSON.stringify(toWire(NaN))))));
    assert.equal(fromWire(toWire(Infinity)), Infinity);
    assert.equal(fromWire(toWire(-Infinity)), -Infinity);
    assert.equal(toWire(null), null);
    assert.equal(fromWire(null), undefined);
  });
});

describe('panel HTML shell', () => {
  const html = panelHtml({
    title: 'Runs <&>',
    cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
    nonce: 'abc123',
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/runs.js',
    styleUris: ['https://file+.vscode-resource.vscode-cdn.net/ext/media/panels.css'],
    panel: 'runsTable',
  });

  it('has a strict CSP: scripts only by nonce, nothing remote, no eval, no inline script', () => {
    const csp = contentSecurityPolicy('https://x.example', 'N0nce');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-N0nce'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline|\*|https?:\/\/(?!x\.example)/);
    assert.match(csp, /style-src https:\/\/x\.example 'nonce-N0nce'/);
    assert.match(csp, /connect-src 'none'/);
  });

  it('loads one script with the nonce and holds no data and no inline script', () => {
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0][1], /nonce="abc123"/);
    assert.match(scripts[0][1], /src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\/runs\.js"/);
    assert.equal(scripts[0][2].trim(), '', 'no inline script');
    assert.doesNotMatch(html, / on[a-z]+=/i, 'no inline event handlers');
    assert.match(html, /<title>Runs &lt;&amp;&gt;<\/title>/);
    assert.match(html, /<meta property="csp-nonce" content="abc123">/);
  });

  it('makes a fresh, unguessable nonce each time', () => {
    const a = makeNonce(), b = makeNonce();
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9]{20,}$/);
  });
});
