import { Fragment, useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { Agent, AttachmentView, CannedReply, Label, Message, Note, Session } from '../../api/wire';
import { fill, pick } from './canned';
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
  onClose: (sendTranscript: boolean) => void;
  onReopen: () => void;
  onTranscript: () => void;
  /** A search hit to show: scrolled to and highlighted. */
  focusSeq: number | null;
  notes: Note[];
  onNote: (body: string) => void;
  canned: CannedReply[];
  labels: Label[];
  onLabels: (names: string[]) => void;
  /** A file picked, pasted or dropped in the composer. */
  onAttach: (file: File) => void;
  /** Files on their way up, with a way to stop each. */
  uploads: { id: string; name: string; cancel: () => void }[];
  /** The knowledge base's help, given a way to put text into the reply. */
  assist?: (insert: (text: string) => void) => ReactNode;
}

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${Math.round(n / 1024)} KB` : `${(n / 1048576).toFixed(1)} MB`;
}

/** A message's files: images as thumbnails that open full size, the rest as
 * cards with name and size; names are text, never markup. */
export function Files({ list }: { list: AttachmentView[] }) {
  if (list.length === 0) return null;
  return (
    <div className="files">
      {list.map((a) =>
        a.inline ? (
          <a key={a.id} className="thumb" href={a.url} target="_blank" rel="noopener noreferrer" title={a.name}>
            <img src={a.url} alt={a.name} width={a.width ? Math.min(a.width, 240) : undefined} />
          </a>
        ) : (
          <a key={a.id} className="file" href={a.url} download={a.name} target="_blank" rel="noopener noreferrer">
            {a.name} <small>{bytes(a.size)}</small>
          </a>
        ),
      )}
    </div>
  );
}

/** 1 stored, 2 delivered to the customer's client, 3 read by the customer. */
function tick(s: Session, seq: number): 1 | 2 | 3 {
  return seq <= s.customer_read_seq ? 3 : seq <= s.customer_delivered_seq ? 2 : 1;
}

export function Thread(p: Props) {
  const [draft, setDraft] = useState('');
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [sendTranscript, setSendTranscript] = useState(true);
  const [choice, setChoice] = useState(0);
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

  const picks = pick(p.canned, draft);

  function insert(c: CannedReply) {
    setDraft(fill(c.body, s, p.me));
    setChoice(0);
  }

  function keyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (picks && picks.length > 0) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        setChoice((i) => (i + (e.key === 'ArrowDown' ? 1 : picks.length - 1)) % picks.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        const c = picks[Math.min(choice, picks.length - 1)];
        if (c) insert(c);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      const body = draft.trim();
      if (!body) return;
      if (mode === 'note') p.onNote(body);
      else p.onSend(body);
      setDraft('');
      typingSent.current = 0;
      if (mode === 'reply') p.onTyping(false);
    }
  }

  function changed(v: string) {
    setDraft(v);
    setChoice(0);
    if (mode === 'note') return;
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
        {s.offline && <span className="offline-flag" title="Came in while nobody was there">after hours</span>}
        {s.rating && (
          <span className="rating" title={s.rating.comment ?? undefined}>
            Rated {'★'.repeat(s.rating.score)}{'☆'.repeat(5 - s.rating.score)}{s.rating.comment ? `: “${s.rating.comment}”` : ''}
          </span>
        )}
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
          {s.status === 'closed' ? (
            <button type="button" onClick={p.onReopen}>Reopen</button>
          ) : (
            <>
              {s.customer.email && (
                <label className="send-transcript" title={`Email the transcript to ${s.customer.email} when closing`}>
                  <input type="checkbox" checked={sendTranscript} onChange={(e) => setSendTranscript(e.target.checked)} /> Email transcript
                </label>
              )}
              <button type="button" onClick={() => p.onClose(Boolean(s.customer.email) && sendTranscript)}>Close</button>
            </>
          )}
          <button type="button" onClick={p.onTranscript} title="Download the transcript">Transcript</button>
        </div>
        <div className="labels" aria-label="Labels">
          {s.labels.map((name) => (
            <span key={name} className="chip" style={{ borderColor: p.labels.find((l) => l.name === name)?.color }}>
              {name}
              <button type="button" aria-label={`Remove label ${name}`} onClick={() => p.onLabels(s.labels.filter((x) => x !== name))}>×</button>
            </span>
          ))}
          {p.labels.some((l) => !s.labels.includes(l.name)) && (
            <select aria-label="Add label" value="" onChange={(e) => e.target.value && p.onLabels([...s.labels, e.target.value])}>
              <option value="">+ label</option>
              {p.labels.filter((l) => !s.labels.includes(l.name)).map((l) => (
                <option key={l.id} value={l.name}>{l.name}</option>
              ))}
            </select>
          )}
        </div>
      </header>
      <div className="messages" ref={log} role="log" aria-live="polite" onScroll={(e) => { if (e.currentTarget.scrollTop === 0) p.onLoadOlder(); }}>
        {(p.messages[0]?.seq ?? 1) > 1 && <button type="button" className="older" onClick={p.onLoadOlder}>Load older messages</button>}
        {p.notes.filter((n) => n.after_seq < (p.messages[0]?.seq ?? Infinity)).map((n) => <NoteView key={n.id} note={n} />)}
        {p.messages.map((m, i) => {
          const ours = m.sender_type === 'agent' || m.sender_type === 'bot';
          const r = ours ? tick(s, m.seq) : undefined;
          const lastOne = i === p.messages.length - 1;
          return (
            <Fragment key={m.id}>
            <div className={`msg ${m.sender_type}${m.seq === p.focusSeq ? ' found' : ''}`} data-seq={m.seq} data-r={r}>
              <div className="who">
                {m.sender_name} · <time dateTime={m.created_at}>{new Date(m.created_at).toLocaleTimeString()}</time>
                {r && <span className={`ticks r${r}`} aria-label={r === 3 ? 'read' : r === 2 ? 'delivered' : 'sent'}>{r === 1 ? ' ✓' : ' ✓✓'}</span>}
              </div>
              {m.body && <div className="body">{m.body}</div>}
              <Files list={m.attachments} />
              {ours && lastOne && r === 3 && <div className="seen">Seen</div>}
            </div>
            {p.notes.filter((n) => n.after_seq === m.seq).map((n) => <NoteView key={n.id} note={n} />)}
            </Fragment>
          );
        })}
        {p.pending.map((q) => (
          <div key={q.client_msg_id} className={`msg agent ${q.failed ? 'failed' : 'pending'}`}>
            <div className="body">{q.body}</div>
            <div className="who">{q.failed ? <>Not sent. <button type="button" onClick={() => p.onRetry(q)}>Retry</button></> : 'Sending…'}</div>
          </div>
        ))}
      </div>
      {p.uploads.map((u) => (
        <div key={u.id} className="upload" role="status">
          Uploading {u.name}… <button type="button" onClick={u.cancel}>Cancel</button>
        </div>
      ))}
      {p.typing && <div className="typing">{p.typing} is typing…</div>}
      {p.assist?.((text) => {
        setMode('reply');
        setDraft((d) => (d.trim() ? `${d.trimEnd()}\n${text}` : text));
      })}
      <div className="modes" role="tablist" aria-label="Composer mode">
        <button type="button" role="tab" aria-selected={mode === 'reply'} className={mode === 'reply' ? 'on' : ''} onClick={() => setMode('reply')}>Reply</button>
        <button type="button" role="tab" aria-selected={mode === 'note'} className={mode === 'note' ? 'on' : ''} onClick={() => setMode('note')}>Internal note</button>
      </div>
      {picks && picks.length > 0 && (
        <ul className="picker" role="listbox" aria-label="Canned replies">
          {picks.map((c, i) => (
            <li key={c.id} role="option" aria-selected={i === choice} className={i === choice ? 'on' : ''} onMouseDown={(e) => { e.preventDefault(); insert(c); }}>
              <strong>/{c.shortcut}</strong> {c.title}
            </li>
          ))}
        </ul>
      )}
 {mode === 'reply' && s.status !== 'closed' && (
        <label className="attach" title="Attach a file">
          📎<span className="sr">Attach a file</span>
          <input type="file" aria-label="Attach a file" onChange={(e) => { const f = e.target.files?.[0]; if (f) p.onAttach(f); e.target.value = ''; }} />
        </label>
      )}
      <textarea id="composer" onPaste={(e) => { const f = e.clipboardData.files[0]; if (f && mode === 'reply') { e.preventDefault(); p.onAttach(f); } }} className={mode === 'note' ? 'note-mode' : ''} aria-label={mode === 'note' ? 'Internal note' : 'Reply'} placeholder={mode === 'note' ? 'Internal note: only your team sees it (@name mentions a teammate)' : s.status === 'closed' ? 'Reopen to reply' : 'Reply (Enter to send, / for canned replies)'} disabled={s.status === 'closed' && mode === 'reply'} value={draft} onChange={(e) => changed(e.target.value)} onKeyDown={keyDown} />
    </section>
  );
}

function NoteView({ note }: { note: Note }) {
  return (
    <div className="msg note" data-note-id={note.id} data-after-seq={note.after_seq}>
      <div className="who"><span className="internal">Internal note</span> {note.author_name} · <time dateTime={note.created_at}>{new Date(note.created_at).toLocaleTimeString()}</time></div>
      <div className="body">{note.body}</div>
    </div>
  );
}
