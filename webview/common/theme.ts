// Theme colours for canvases (which cannot use CSS variables): read from the
// --vscode-* variables VS Code sets on the page, again whenever the theme changes.

export interface ThemeColors {
  foreground: string;
  muted: string;
  background: string;
  grid: string;
  border: string;
  highContrast: boolean;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function themeColors(): ThemeColors {
  const highContrast = document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  const foreground = cssVar('--vscode-editor-foreground', cssVar('--vscode-foreground', '#333333'));
  return {
    foreground,
    muted: cssVar('--vscode-descriptionForeground', foreground),
    background: cssVar('--vscode-editor-background', '#ffffff'),
    grid: highContrast ? cssVar('--vscode-contrastBorder', foreground) : cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.35)')),
    border: cssVar('--vscode-contrastBorder', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.35)')),
    highContrast,
  };
}

const CHART_VARS = ['--vscode-charts-blue', '--vscode-charts-red', '--vscode-charts-green', '--vscode-charts-orange', '--vscode-charts-purple', '--vscode-charts-yellow'];
const FALLBACK = ['#3794ff', '#f14c4c', '#89d185', '#d18616', '#b180d7', '#cca700'];

/**
 * One colour per run, in order: the theme's chart colours first, then evenly
 * spread hues so 100 runs stay distinguishable.
 */
export function runColors(count: number): string[] {
  const base = CHART_VARS.map((v, i) => cssVar(v, FALLBACK[i]));
  const dark = document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i < base.length) out.push(base[i]);
    else {
      const hue = Math.round((i * 137.508) % 360); // golden angle
      const light = dark ? 62 + ((i >> 1) % 3) * 8 : 38 + ((i >> 1) % 3) * 8;
      out.push(`hsl(${hue}, 70%, ${light}%)`);
    }
  }
  return out;
}

/** Calls `onChange` when VS Code switches theme (it changes the body's class). */
export function onThemeChange(onChange: () => void): void {
  new MutationObserver(() => onChange()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
