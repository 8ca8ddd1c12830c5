// Search helpers, pure: the query as-you-type and the server's snippets.

/** The last word becomes a prefix while the agent is still typing it. */
export function asYouType(q: string): string {
  const t = q.trimStart();
  if (!t || /[\s"*]$/.test(t)) return t.trim();
  return `${t}*`;
}

export interface SnippetPart {
  text: string;
  mark: boolean;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The server's snippet (HTML-escaped, matches in `<mark>`) as plain text
 * parts, so it renders without innerHTML. */
export function snippetParts(snippet: string): SnippetPart[] {
  return snippet
    .split(/(<mark>.*?<\/mark>)/)
    .filter((p) => p !== '')
    .map((p) => {
      const mark = p.startsWith('<mark>');
      const raw = mark ? p.slice(6, -7) : p;
      return { text: raw.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] ?? e), mark };
    });
}
