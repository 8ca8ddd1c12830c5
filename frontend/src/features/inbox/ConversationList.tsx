import type { SearchHit, Session } from '../../api/wire';
import { snippetParts } from './search';

export interface Filters {
  status: '' | 'pending' | 'open' | 'closed';
  assigned: 'any' | 'me' | 'unassigned';
  q: string;
}

interface Props {
  sessions: Session[];
  selected: string | null;
  unread: Record<string, number>;
  filters: Filters;
  onFilters: (f: Filters) => void;
  onSelect: (id: string) => void;
  /** Message hits of the search box, newest first. */
  hits: SearchHit[];
  onHit: (hit: SearchHit) => void;
}

export function ConversationList({ sessions, selected, unread, filters, onFilters, onSelect, hits, onHit }: Props) {
  return (
    <section className="list" aria-label="Conversations">
      <div className="filters">
        <input id="search" type="search" placeholder="Search name, email, text  ( / )" value={filters.q} aria-label="Search conversations" onChange={(e) => onFilters({ ...filters, q: e.target.value })} />
        <div className="row">
          <select aria-label="Status" value={filters.status} onChange={(e) => onFilters({ ...filters, status: e.target.value as Filters['status'] })}>
            <option value="">All statuses</option>
            <option value="pending">Pending</option>
            <option value="open">Open</option>
            <option value="closed">Closed</option>
          </select>
          <select aria-label="Assignee" value={filters.assigned} onChange={(e) => onFilters({ ...filters, assigned: e.target.value as Filters['assigned'] })}>
            <option value="any">Everyone's</option>
            <option value="me">Mine</option>
            <option value="unassigned">Unassigned</option>
          </select>
        </div>
      </div>
      <ul role="listbox" aria-label="Conversation list">
        {sessions.length === 0 && <li className="empty">No conversations</li>}
        {sessions.map((s) => (
          <li key={s.id} role="option" aria-selected={s.id === selected} data-session-id={s.id} className={s.id === selected ? 'conv selected' : 'conv'} onClick={() => onSelect(s.id)}>
            <div className="conv-top">
              <strong>{s.customer.name ?? s.customer.email ?? 'Visitor'}</strong>
              {s.offline && <span className="offline-flag" title="Came in while nobody was there">after hours</span>}
              {s.rating && <span className="rating" aria-label={`rated ${s.rating.score} of 5`}>★{s.rating.score}</span>}
              {(unread[s.id] ?? 0) > 0 && <span className="unread" aria-label={`${unread[s.id]} unread`}>{unread[s.id]}</span>}
            </div>
            <div className="preview">{s.last_message_preview ?? 'No messages yet'}</div>
            {s.labels.length > 0 && <div className="labels">{s.labels.map((l) => <span key={l} className="chip">{l}</span>)}</div>}
            <div className="meta">
              <span className={`status ${s.status}`}>{s.status}</span>
              <span>{s.assigned_agent?.name ?? 'unassigned'}</span>
              <time dateTime={s.last_activity_at}>{new Date(s.last_activity_at).toLocaleTimeString()}</time>
            </div>
          </li>
        ))}
      </ul>
      {filters.q.trim() && (
        <div className="hits" aria-label="Matching messages">
          <h3>Messages</h3>
          {hits.length === 0 && <p className="empty">No matching messages</p>}
          <ul>
            {hits.map((h) => (
              <li key={h.message.id} className="hit" data-session-id={h.session.id} data-seq={h.message.seq}>
                <button type="button" onClick={() => onHit(h)}>
                  <strong>{h.session.customer.name ?? 'Visitor'}</strong> <span className="muted">{h.message.sender_name}</span>
                  <span className="snippet">
                    {snippetParts(h.snippet).map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
                  </span>
                  <time dateTime={h.message.created_at}>{new Date(h.message.created_at).toLocaleString()}</time>
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
