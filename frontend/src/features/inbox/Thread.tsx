import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { Agent, Message, Session } from '../../api/wire';
import type { Pending } from './state';

interface Props {
  me: Agent;
  session: Session | null;
  messages: Message[];
  pending: Pending[];
  typing: string | null;
  agents: Agent[];
  onSend: (body: string) => void;
  onRetry: (p: Pending) => void;
  onTyping: (on: boolean) => void;
  onLoadOlder: () => void;
  onAssign: (agentId?: string) => void;
  onClose: () => void;
  onReopen: () => void;
  onTranscript: () => void;
  /** A search hit to show: scrolled to and highlighted. */
  focusSeq: number | null;
}

/** 1 stored, 2 delivered to the customer's client, 3 read by the customer. */
function tick(s: Session, seq: number): 1 | 2 | 3 {
  return seq <= s.customer_read_seq ? 3 : seq <= s.customer_delivered_seq ? 2 : 1;
}

export function Thread(p: Props) {
  const [draft, setDraft] = useState('');
  const log = useRef<HTMLDivElement>(null);
  const typingSent = useRef(0);
  const last = p.messages[p.messages.length - 1]?.seq;

  useEffect(() => {
    const el = log.current;
    if (!el) return;
    const hit = p.focusSeq === null ? null : el.querySelector(`[data-seq="${p.focusSeq}"]`);
    if (hit) hit.scrollIntoView({ block: 'center' });
    else el.scrollTop = el.scrollHeight;
  }, [p.session?.id, last, p.pending.length, p.focusSeq]);

  if (!p.session) return <section className="thread empty" aria-label="Thread"><p>Select a conversation</p></section>;
  const s = p.session;

  function keyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      const body = draft.trim();
      if (!body) return;
      p.onSend(body);
      setDraft('');
      typingSent.current = 0;
      p.onTyping(false);
    }
  }

  function changed(v: string) {
    setDraft(v);
    const now = Date.now();
    if (now - typingSent.current > 2000) {
      typingSent.current = now;
      p.onTyping(true);
    }
  }

  const mine = s.assigned_agent?.id === p.me.id;
  return (
    <section className="thread" aria-label="Thread">
      <header className="thread-head">
        <h2>{s.customer.name ?? 'Visitor'}</h2>
        <span className={`status ${s.status}`}>{s.status}</span>
        <span className="assignee">{s.assigned_agent ? `Assigned to ${s.assigned_agent.name}` : 'Unassigned'}</span>
        <div className="actions">
          {s.status !== 'closed' && !mine && <button type="button" onClick={() => p.onAssign()} title="a">Assign to me</button>}
          {s.status !== 'closed' && (
            <select aria-label="Transfer to" value="" onChange={(e) => e.target.value && p.onAssign(e.target.value)}>
              <option value="">Transfer to…</option>
              {p.agents.filter((a) => a.id !== s.assigned_agent?.id).map((a) => (
                <option key={a.id} value={a.id}>{a.online ? '● ' : '○ '}{a.name}</option>
              ))}
            </select>
          )}
          {s.status === 'closed' ? <button type="button" onClick={p.onReopen}>Reopen</button> : <button type="button" onClick={p.onClose}>Close</button>}
          <button type="button" onClick={p.onTranscript} title="Download the transcript">Transcript</button>
        </div>
      </header>
      <div className="messages" ref={log} role="log" aria-live="polite" onScroll={(e) => { if (e.currentTarget.scrollTop === 0) p.onLoadOlder(); }}>
        {(p.messages[0]?.seq ?? 1) > 1 && <button type="button" className="older" onClick={p.onLoadOlder}>Load older messages</button>}
        {p.messages.map((m, i) => {
          const ours = m.sender_type === 'agent' || m.sender_type === 'bot';
          const r = ours ? tick(s, m.seq) : undefined;
          const lastOne = i === p.messages.length - 1;
          return (
            <div key={m.id} className={`msg ${m.sender_type}${m.seq === p.focusSeq ? ' found' : ''}`} data-seq={m.seq} data-r={r}>
              <div className="who">
                {m.sender_name} · <time dateTime={m.created_at}>{new Date(m.created_at).toLocaleTimeString()}</time>
                {r && <span className={`ticks r${r}`} aria-label={r === 3 ? 'read' : r === 2 ? 'delivered' : 'sent'}>{r === 1 ? ' ✓' : ' ✓✓'}</span>}
              </div>
              <div className="body">{m.body}</div>
              {ours && lastOne && r === 3 && <div className="seen">Seen</div>}
            </div>
          );
        })}
        {p.pending.map((q) => (
          <div key={q.client_msg_id} className={`msg agent ${q.failed ? 'failed' : 'pending'}`}>
            <div className="body">{q.body}</div>
            <div className="who">{q.failed ? <>Not sent. <button type="button" onClick={() => p.onRetry(q)}>Retry</button></> : 'Sending…'}</div>
          </div>
        ))}
      </div>
      {p.typing && <div className="typing">{p.typing} is typing…</div>}
      <textarea id="composer" aria-label="Reply" placeholder={s.status === 'closed' ? 'Reopen to reply' : 'Reply (Enter to send, Shift+Enter for a new line)'} disabled={s.status === 'closed'} value={draft} onChange={(e) => changed(e.target.value)} onKeyDown={keyDown} />
    </section>
  );
}
