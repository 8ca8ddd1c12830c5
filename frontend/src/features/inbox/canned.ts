// Canned replies in the composer, pure: which ones a `/query` picks and
// the body with its placeholders filled in.
import type { Agent, CannedReply, Session } from '../../api/wire';

/** The replies a draft starting with `/` asks for, best first; null when
 * the draft is not a `/` command. */
export function pick(list: CannedReply[], draft: string): CannedReply[] | null {
  if (!draft.startsWith('/') || draft.includes('\n')) return null;
  const q = draft.slice(1).trim().toLowerCase();
  const starts = list.filter((c) => c.shortcut.startsWith(q));
  const contains = list.filter((c) => !c.shortcut.startsWith(q) && (c.shortcut.includes(q) || c.title.toLowerCase().includes(q)));
  return [...starts, ...contains];
}

/** `{{customer.name}}`, `{{customer.email}}` and `{{agent.name}}` filled in;
 * an unknown value leaves an empty string. */
export function fill(body: string, session: Session, me: Agent): string {
  const values: Record<string, string> = {
    'customer.name': session.customer.name ?? '',
    'customer.email': session.customer.email ?? '',
    'agent.name': me.name,
  };
  return body.replace(/\{\{\s*([a-z.]+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole);
}
