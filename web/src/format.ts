/** Small formatting helpers shared by the page's views. */

/** `[    1.000025]`, as dmesg and `klpsim run --format dmesg` print simulated time. */
export function dmesgTime(ns: number): string {
  const us = Math.floor(ns / 1000);
  const s = Math.floor(us / 1_000_000);
  return `[${String(s).padStart(5)}.${String(us % 1_000_000).padStart(6, '0')}]`;
}

/** A duration in simulated time, in the unit that reads best. */
export function duration(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(3)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns} ns`;
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function hexAddr(n: number): string {
  return `0x${n.toString(16)}`;
}

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#ff9da7'];
export const ORIGINAL_COLOR = '#b8b8b8';
export const PROBLEM_COLOR = '#d62728';

/** A patch's colour: fixed by the order patches appeared in, so it never changes during a run. */
export function worldColor(world: string | null, worlds: readonly string[]): string {
  if (world === null) return '#555';
  const i = worlds.indexOf(world);
  return i < 0 ? ORIGINAL_COLOR : PALETTE[i % PALETTE.length];
}

/**
 * Colours the `.chip[data-world]` elements under `root`. Through the CSSOM, not style attributes: the
 * page's Content-Security-Policy allows no inline styles.
 */
export function paintChips(root: ParentNode, worlds: readonly string[]): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-world]'))
    el.style.backgroundColor = worldColor(el.dataset.world ?? null, worlds);
}
