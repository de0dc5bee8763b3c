// Theme colours for canvases (which cannot use CSS variables): read from the
// --vscode-* variables VS Code sets on the page, again whenever the theme changes.

import { assignSlots, colorSlot, slotColor } from './runColors';

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

/** The theme's part of the palette, read again only when the theme (the body's class) changes: rows call runColor while scrolling. */
let cached: { theme: string; base: string[]; dark: boolean } | undefined;
function palette(): { base: string[]; dark: boolean } {
  const theme = document.body.className;
  if (cached?.theme !== theme) {
    cached = {
      theme,
      base: CHART_VARS.map((v, i) => cssVar(v, FALLBACK[i])),
      dark: document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast'),
    };
  }
  return cached!;
}

/** A run's colour, from its id: the same in the runs table and every comparison. */
export function runColor(runId: string): string {
  const { base, dark } = palette();
  return slotColor(colorSlot(runId), base, dark);
}

/** Colours of runs shown together (see assignSlots). */
export function runColorsById(runIds: string[]): Map<string, string> {
  const { base, dark } = palette();
  return new Map([...assignSlots(runIds)].map(([id, slot]) => [id, slotColor(slot, base, dark)]));
}

/** Calls `onChange` when VS Code switches theme (it changes the body's class). */
export function onThemeChange(onChange: () => void): void {
  new MutationObserver(() => onChange()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/** A colour with transparency, whatever CSS colour syntax it came in (the canvas normalises it). */
const colorProbe = document.createElement('canvas').getContext('2d');
export function withAlpha(color: string, alpha: number): string {
  if (!colorProbe) return color;
  colorProbe.fillStyle = '#000';
  colorProbe.fillStyle = color;
  const c = String(colorProbe.fillStyle);
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
  if (hex) return `rgba(${parseInt(hex[1], 16)}, ${parseInt(hex[2], 16)}, ${parseInt(hex[3], 16)}, ${alpha})`;
  const rgba = /^rgba?\(([^)]+)\)$/.exec(c);
  if (rgba) {
    const [r, g, b] = rgba[1].split(',').map((p) => p.trim());
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  return color;
}
