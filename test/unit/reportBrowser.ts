// Opens an HTML file in headless Chromium (/usr/bin/chromium through playwright-core) and
// records every request the page makes, to prove a report needs no network.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export interface OpenedReport {
  /** Every URL the page asked for, the file itself included. */
  requests: string[];
  /** Section ids with their heading text, as rendered. */
  sections: Record<string, string>;
  /** SVG charts drawn with a non-zero size. */
  charts: number;
  /** Problems the page logged (CSP violations among them). */
  console: string[];
}

export async function openInChromium(file: string): Promise<OpenedReport> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-chromium-'));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    env: { ...process.env, XDG_CONFIG_HOME: path.join(home, 'c'), XDG_DATA_HOME: path.join(home, 'd'), XDG_CACHE_HOME: path.join(home, 'k') },
  });
  try {
    const page = await browser.newPage();
    const requests: string[] = [];
    const logged: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') logged.push(m.text()); });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const sections = await page.$$eval('section', (list) => Object.fromEntries(list.map((s) => [s.id, s.querySelector('h2')?.textContent ?? ''])));
    const charts = await page.$$eval('svg.chart', (list) => list.filter((s) => s.getBoundingClientRect().width > 0 && s.getBoundingClientRect().height > 0).length);
    return { requests, sections, charts, console: logged };
  } finally {
    await browser.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
