import { useEffect, useState } from 'react';
import type { Api } from '../../api/client';
import type { Message, Session, Suggestion } from '../../api/wire';

interface Props {
  api: Api;
  session: Session;
  messages: Message[];
  /** Bumped when the bot hands this conversation off (the live event). */
  handoffs: number;
  /** The agent's latest reply in this conversation, once sent. */
  lastReply: string | null;
  onInsert: (text: string) => void;
}

/** The knowledge base's help while answering a question the bot handed
 * off: the closest articles with a passage to insert, and, when a reply
 * says something no article says, a way to turn it into a draft article. */
export function Assist({ api, session, messages, handoffs, lastReply, onInsert }: Props) {
  const [suggestions, setSuggestions] = useState<Suggestion[]>([]);
  const [uncovered, setUncovered] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const withBot = messages.some((m) => m.sender_type === 'bot');
  const open = session.status !== 'closed';

  useEffect(() => {
    setSuggestions([]);
    setUncovered(null);
    setStatus(null);
  }, [session.id]);

  useEffect(() => {
    if (!withBot || !open) return;
    api.suggestions(session.id).then((r) => setSuggestions(r.suggestions), () => setSuggestions([]));
  }, [api, session.id, withBot, open, handoffs]);

  useEffect(() => {
    if (!lastReply || !withBot) return;
    let live = true;
    api.coverage(lastReply).then((r) => live && setUncovered(r.covered ? null : lastReply), () => {});
    return () => {
      live = false;
    };
  }, [api, lastReply, withBot]);

  async function draft(body: string) {
    try {
      await api.draftArticle(session.id, body);
      setUncovered(null);
      setStatus('Saved as a draft article for an admin to review.');
    } catch {
      setStatus('The draft could not be saved.');
    }
  }

  if (!withBot || (!suggestions.length && !uncovered && !status)) return null;
  return (
    <div className="assist" aria-label="Knowledge base">
      {open && suggestions.length > 0 && (
        <ul className="suggestions" aria-label="Suggested articles">
          {suggestions.map((s) => (
            <li key={s.article_id} data-article-id={s.article_id}>
              <strong>{s.title}</strong>
              <p>{s.passage}</p>
              <button type="button" onClick={() => onInsert(s.passage)} aria-label={`Insert passage from ${s.title}`}>
                Insert
              </button>
            </li>
          ))}
        </ul>
      )}
      {uncovered && (
        <div className="uncovered" role="status">
          No article says this yet.{' '}
          <button type="button" onClick={() => void draft(uncovered)}>
            Turn into article
          </button>
        </div>
      )}
      {status && <p className="assist-status" role="status">{status}</p>}
    </div>
  );
}
