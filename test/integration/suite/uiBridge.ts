// Suite side of the UI bridge: the extension host cannot see the browser, so a
// test writes a request file into MLOPS_TEST_UI_DIR and the code-server runner
// (test/integration/run-code-server.mjs, which documents the protocol) performs
// it with Playwright on the live workbench and writes the result file back.
// Under @vscode/test-electron there is no browser: UI tests skip themselves.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

interface UiCommon {
  /** CSS selector of the elements to search; default `.monaco-list-row`. */
  selector?: string;
  /** Search inside webview frames instead of the workbench page. */
  webview?: boolean;
  /** How long the runner waits for matches, in ms; default 10 000. */
  timeoutMs?: number;
  /** View container to show first (its id, e.g. `mlops`); done here, through its command. */
  revealViewContainer?: string;
}

export interface FindRequest extends UiCommon {
  action: 'find';
  /** Each must be contained in the text or aria-label of some matching element. */
  texts: string[];
  /** File name (no folder) under test-results/screenshots/ to save a full-page screenshot to. */
  screenshot?: string;
}

export interface ScreenshotRequest extends UiCommon {
  action: 'screenshot';
  screenshot: string;
  /** Only this element (CSS; the first visible match, inside webview frames when `webview`); the full page when absent. */
  element?: string;
}

/** Waits until some visible canvas matching `selector` (default `canvas`) has at least `minPixels` drawn pixels. */
export interface CanvasPixelsRequest extends UiCommon {
  action: 'canvas-pixels';
  minPixels?: number;
}

/** Types `text` into the first visible input matching `selector` (replacing its value), then presses `press`. */
export interface FillRequest extends UiCommon {
  action: 'fill';
  selector: string;
  text: string;
  press?: string;
}

export interface ClickTextRequest extends UiCommon {
  action: 'click-text';
  text: string;
}

export interface StatusBarRequest extends UiCommon {
  action: 'status-bar';
}

export type UiRequest = FindRequest | ScreenshotRequest | ClickTextRequest | StatusBarRequest | CanvasPixelsRequest | FillRequest;

export interface UiResult {
  ok: boolean;
  /** find: which of the requested texts were found. */
  found?: Record<string, boolean>;
  /** find, click-text, status-bar: the texts of all matching elements. */
  rowTexts?: string[];
  /** Absolute path of the screenshot taken, if any. */
  screenshot?: string;
  /** canvas-pixels: every visible matching canvas and how many of its pixels are drawn. */
  canvases?: { id: string; width: number; height: number; drawn: number }[];
  error?: string;
}

const POLL_MS = 100;
const RUNNER_SLACK_MS = 30_000; // the runner may be busy with an earlier request

/** True when a runner with a browser answers UI requests (the code-server runner). */
export function uiAvailable(): boolean {
  return Boolean(process.env.MLOPS_TEST_UI_DIR);
}

/** Call first in a UI test (`function` not arrow, for `this`): skips it where no browser exists. */
export function skipUnlessUi(ctx: Mocha.Context): void {
  if (uiAvailable()) return;
  console.log(`  skipped "${ctx.test?.title}": UI checks need the code-server runner (MLOPS_TEST_UI_DIR is not set)`);
  ctx.skip();
}

let sequence = 0;

/** Asks the runner to perform `request` in the browser and waits for its answer. */
export async function requestUi(request: UiRequest): Promise<UiResult> {
  const dir = process.env.MLOPS_TEST_UI_DIR;
  if (!dir) throw new Error('UI bridge unavailable (MLOPS_TEST_UI_DIR unset): call skipUnlessUi(this) first');
  if (request.revealViewContainer) {
    await vscode.commands.executeCommand(`workbench.view.extension.${request.revealViewContainer}`);
  }
  const id = `${process.pid}-${++sequence}`;
  writeAtomically(path.join(dir, `${id}.request.json`), JSON.stringify(request));
  return waitForResult(path.join(dir, `${id}.result.json`), (request.timeoutMs ?? 10_000) + RUNNER_SLACK_MS);
}

async function waitForResult(file: string, timeoutMs: number): Promise<UiResult> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as UiResult;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`UI bridge: no answer in ${file} after ${timeoutMs} ms (is the runner watching?)`);
}

/** The runner polls the folder; a rename means it never reads half a file. */
function writeAtomically(file: string, text: string): void {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

/**
 * Reveals a run in the Runs view and finds `texts` among the rendered rows. The view is a few
 * rows high beside the other MLOps views, so a run that another test starts meanwhile can push
 * the revealed row out of sight: the reveal is repeated, up to three times.
 */
export async function findRevealedRun(runId: string, texts: string[], screenshot: string): Promise<UiResult> {
  let result: UiResult = { ok: false };
  for (let attempt = 0; attempt < 3 && !result.ok; attempt++) {
    await vscode.commands.executeCommand('mlops.revealRun', runId);
    result = await requestUi({ action: 'find', texts, revealViewContainer: 'mlops', screenshot, timeoutMs: 5000 });
  }
  return result;
}
