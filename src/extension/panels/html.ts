// The HTML shell of a panel: a strict Content Security Policy with a fresh
// nonce, local resources only, one bundled script, no inline script and no
// data. Everything the panel shows arrives later as messages.

import { randomBytes } from 'node:crypto';

export interface ShellOptions {
  title: string;
  /** `webview.cspSource`: the origin local resources are served from. */
  cspSource: string;
  nonce: string;
  /** Webview URIs (asWebviewUri) of the script bundle and the style sheets. */
  scriptUri: string;
  styleUris: string[];
  /** Contract name, read by the script to check it was loaded into the right panel. */
  panel: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[+/=]/g, '');
}

/**
 * Nothing may load from outside the extension; scripts only with the nonce
 * (so no inline script and no eval); no plugins, frames, forms or connections.
 * Styles: our style sheets, plus the one <style> probe the UI toolkit (FAST)
 * inserts, which carries the nonce it reads from the csp-nonce meta tag.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource}`,
    `font-src ${cspSource}`,
    "connect-src 'none'",
    "frame-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function panelHtml(o: ShellOptions): string {
  const styles = o.styleUris.map((href) => `  <link rel="stylesheet" href="${escapeAttr(href)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(o.cspSource, o.nonce))}">
  <meta property="csp-nonce" content="${escapeAttr(o.nonce)}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${escapeText(o.title)}</title>
${styles}
</head>
<body data-panel="${escapeAttr(o.panel)}">
  <main id="app" aria-busy="true"><p class="loading">Loading…</p></main>
  <script nonce="${escapeAttr(o.nonce)}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>
`;
}

function escapeAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
