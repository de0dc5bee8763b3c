// Whether a canvas shows anything: pixels that differ from its background.

import type { CanvasInfo } from '../../src/protocol/common';

/** Counts pixels that differ from the top-left pixel (the background) by more than a little. */
export function drawnPixels(canvas: HTMLCanvasElement): number {
  const ctx = canvas.getContext('2d');
  if (!ctx || !canvas.width || !canvas.height) return 0;
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const [r0, g0, b0, a0] = [data[0], data[1], data[2], data[3]];
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (Math.abs(data[i] - r0) + Math.abs(data[i + 1] - g0) + Math.abs(data[i + 2] - b0) + Math.abs(data[i + 3] - a0) > 24) n++;
  }
  return n;
}

export function canvasInfos(root: ParentNode = document): CanvasInfo[] {
  return [...root.querySelectorAll('canvas')].map((c, i) => ({ id: c.id || `canvas-${i}`, width: c.width, height: c.height, drawnPixels: drawnPixels(c) }));
}

/** The canvas as a PNG, base64 without the data: prefix. */
export function pngBase64(canvas: HTMLCanvasElement): string {
  return canvas.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}
