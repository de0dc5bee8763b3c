/**
 * Lets long synchronous loops give the event loop a turn (the VS Code extension host shares
 * it): the returned function awaits one macrotask when `sliceMs` have passed since the last.
 */
export function yielder(sliceMs = 15): () => Promise<void> | undefined {
  let last = performance.now();
  return () => {
    const now = performance.now();
    if (now - last < sliceMs) return undefined;
    return new Promise<void>((resolve) => setImmediate(() => {
      last = performance.now();
      resolve();
    }));
  };
}
