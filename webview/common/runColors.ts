// Which colour each run gets: a slot from a hash of its id, the same in every
// panel (runs table, every comparison) whatever else is shown. No DOM, so unit
// tests check it; theme.ts turns slots into the theme's colours.

/** Colours a run can get: the theme's chart colours, then evenly spread hues, enough for 100 runs to differ. */
const SLOTS = 128;

export function slotColor(slot: number, base: string[], dark: boolean): string {
  if (slot < base.length) return base[slot];
  const hue = Math.round((slot * 137.508) % 360); // golden angle
  const light = dark ? 62 + ((slot >> 1) % 3) * 8 : 38 + ((slot >> 1) % 3) * 8;
  return `hsl(${hue}, 70%, ${light}%)`;
}

/** The run's own slot: a hash (FNV-1a) of its id, so it is the same in every panel, whatever else is shown. */
export function colorSlot(runId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) h = Math.imul(h ^ runId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SLOTS;
}

/**
 * Colour slots of runs shown together: each its own (colorSlot), except that
 * when two would share one, the run with the larger id takes the next free slot,
 * so the order the runs were chosen in never changes a colour.
 */
export function assignSlots(runIds: string[]): Map<string, number> {
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (const id of [...new Set(runIds)].sort()) {
    let slot = colorSlot(id);
    for (let tries = 0; taken.has(slot) && tries < SLOTS; tries++) slot = (slot + 1) % SLOTS;
    taken.add(slot);
    out.set(id, slot);
  }
  return out;
}
