import { describe, expect, it } from 'vitest';
import { asYouType, snippetParts } from './search';

describe('search', () => {
  it('makes the word being typed a prefix', () => {
    expect(asYouType('refun')).toBe('refun*');
    expect(asYouType('late deliv')).toBe('late deliv*');
    expect(asYouType('refund ')).toBe('refund');
    expect(asYouType('"late delivery"')).toBe('"late delivery"');
    expect(asYouType('')).toBe('');
  });

  it('renders snippets as text with marked matches, never as HTML', () => {
    expect(snippetParts('…is &lt;b&gt; <mark>refund</mark> &amp; <mark>kettle</mark>')).toEqual([
      { text: '…is <b> ', mark: false },
      { text: 'refund', mark: true },
      { text: ' & ', mark: false },
      { text: 'kettle', mark: true },
    ]);
  });
});
