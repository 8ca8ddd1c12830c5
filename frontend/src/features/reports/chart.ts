// What the Reports page draws, as numbers: bar geometry and durations in
// words. Kept apart from React so it is unit tested.

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  value: number;
  label: string;
}

/** Bars for `values` in a `width` × `height` box, with a gap between
 * them; the tallest reaches the top. A missing value draws no bar. */
export function bars(values: Array<{ label: string; value: number | null }>, width: number, height: number): Bar[] {
  if (values.length === 0) return [];
  const max = Math.max(0, ...values.map((v) => v.value ?? 0));
  const slot = width / values.length;
  const gap = Math.min(4, slot * 0.2);
  return values.flatMap((v, i) => {
    if (v.value === null) return [];
    const h = max > 0 ? (v.value / max) * height : 0;
    return [{ x: i * slot + gap / 2, y: height - h, width: slot - gap, height: h, value: v.value, label: v.label }];
  });
}

/** `350 ms`, `42 s`, `3 min 5 s`, `2 h 10 min`, `1 d 4 h`; `–` for nothing measured. */
export function duration(secs: number | null | undefined): string {
  if (secs === null || secs === undefined) return '–';
  if (secs < 1) return `${Math.round(secs * 1000)} ms`;
  const s = Math.round(secs);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86400)} d${Math.floor((s % 86400) / 3600) ? ` ${Math.floor((s % 86400) / 3600)} h` : ''}`;
}

/** `YYYY-MM-DD` of a local date. */
export function isoDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
