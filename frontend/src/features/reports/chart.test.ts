import { describe, expect, it } from 'vitest';
import { bars, duration, isoDate } from './chart';

describe('bars', () => {
  it('scales to the tallest and leaves no bar for a missing value', () => {
    const b = bars(
      [
        { label: 'a', value: 2 },
        { label: 'b', value: 4 },
        { label: 'c', value: null },
        { label: 'd', value: 0 },
      ],
      400,
      100,
    );
    expect(b.map((x) => x.label)).toEqual(['a', 'b', 'd']);
    expect(b[0]).toMatchObject({ y: 50, height: 50 });
    expect(b[1]).toMatchObject({ y: 0, height: 100 });
    expect(b[2]).toMatchObject({ y: 100, height: 0 });
    expect((b[1]?.x ?? 0) > (b[0]?.x ?? 0) + (b[0]?.width ?? 0)).toBe(true);
  });
  it('draws nothing for nothing, and zeros flat', () => {
    expect(bars([], 100, 100)).toEqual([]);
    expect(bars([{ label: 'z', value: 0 }], 100, 50)[0]?.height).toBe(0);
  });
});

describe('duration', () => {
  it('speaks in the largest two units', () => {
    expect(duration(null)).toBe('–');
    expect(duration(0.35)).toBe('350 ms');
    expect(duration(42.4)).toBe('42 s');
    expect(duration(185)).toBe('3 min 5 s');
    expect(duration(120)).toBe('2 min');
    expect(duration(7800)).toBe('2 h 10 min');
    expect(duration(100800)).toBe('1 d 4 h');
  });
  it('writes local dates', () => {
    expect(isoDate(new Date(2026, 2, 9))).toBe('2026-03-09');
  });
});
