import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { setErrorHandler, type Api } from '../../api/client';
import type { Agent, AgentFrame, AgentStatusRequest, AttachmentView, CannedReply, Label, SearchHit, Session } from '../../api/wire';
import { asYouType } from './search';
import { ConversationList, type Filters } from './ConversationList';
import { CustomerPanel } from './CustomerPanel';
import { contiguousSeq, initialState, loads, queueOf, reduce, sortedSessions, totalUnread, type Pending } from './state';
import { QueuePanel, Teammates } from './Queue';
import { Thread } from './Thread';
import { Assist } from './Assist';
import { useLiveSocket, type SendFrame } from './useLiveSocket';

interface Toast {
  id: number;
  text: string;
}

function newClientId(): string {
  return `d-${crypto.randomUUID()}`;
}

export function InboxPage({ api, me, onSignOut, onTeam, onReports }: { api: Api; me: Agent; onSignOut: () => void; onTeam: () => void; onReports: () => void }) {
  const [state, dispatch] = useReducer(reduce, me, initialState);
  const stateRef = useRef(state);
  stateRef.current = state;
  const [filters, setFilters] = useState<Filters>({ status: '', assigned: 'any', q: '' });
  const [searchIds, setSearchIds] = useState<Set<string> | null>(null);
  const [history, setHistory] = useState<Session[]>([]);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [hits, setHits] = useState<SearchHit[]>([]);
  const [canned, setCanned] = useState<CannedReply[]>([]);
  const [labels, setLabels] = useState<Label[]>([]);
  const [showMentions, setShowMentions] = useState(false);
  const [focusSeq, setFocusSeq] = useState<number | null>(null);
  const [autoAssign, setAutoAssign] = useState(false);
  const [files, setFiles] = useState<AttachmentView[]>([]);
  const [handoffs, setHandoffs] = useState(0);
  const [lastReply, setLastReply] = useState<{ sessionId: string; body: string } | null>(null);
  const [uploads, setUploads] = useState<{ id: string; sessionId: string; name: string; cancel: () => void }[]>([]);
  // How far this dashboard reported delivery per session.
  const reported = useRef<Record<string, { d: number }>>({});
  const deliverTimers = useRef<Record<string, ReturnType<typeof setTimeout>>>({});

  const toast = useCallback((text: string) => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t.slice(-3), { id, text }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 5000);
    if (document.hidden && 'Notification' in window && Notification.permission === 'granted') new Notification(text);
  }, []);

  useEffect(() => {
    setErrorHandler((e) => {
      if (e.status === 401) onSignOut();
      else toast(e.message);
    });
  }, [onSignOut, toast]);

  const refresh = useCallback(async () => {
    const [{ sessions }, { agents }] = await Promise.all([api.sessions(), api.agents()]);
    dispatch({ kind: 'sessions', sessions });
    dispatch({ kind: 'agents', agents });
    api.queue().then((r) => {
      dispatch({ kind: 'sessions', sessions: r.queue.map((e) => e.session) });
      setAutoAssign(r.assignment === 'auto');
    }, () => {});
    api.cannedReplies().then((r) => setCanned(r.canned_replies), () => {});
    api.labels().then((r) => setLabels(r.labels), () => {});
  }, [api]);

  // A long absence is replayed a page per resume: ask for the next one.
  const sendRef = useRef<SendFrame | null>(null);
  // The team's client received a customer message: said once per session
  // per quarter second at most.
  const ackDelivered = useCallback((sessionId: string, seq: number) => {
    if (deliverTimers.current[sessionId]) return;
    deliverTimers.current[sessionId] = setTimeout(() => {
      delete deliverTimers.current[sessionId];
      const rep = (reported.current[sessionId] ??= { d: 0 });
      const upTo = Math.max(seq, contiguousSeq(stateRef.current.messages[sessionId]));
      if (upTo > rep.d && sendRef.current?.('chat.message.delivered', { session_id: sessionId, seq: upTo })) rep.d = upTo;
    }, 250);
  }, []);

  // The open thread is read when the window is focused and visible.
  const markRead = useCallback(() => {
    const s = stateRef.current;
    const id = s.selected;
    if (!id || document.visibilityState === 'hidden' || !document.hasFocus()) return;
    const seq = contiguousSeq(s.messages[id]);
    // The server's pointer decides: a read it has not seen yet is sent.
    if (seq > (s.sessions[id]?.agent_read_seq ?? 0) && sendRef.current?.('chat.message.read', { session_id: id, seq })) {
      const rep = (reported.current[id] ??= { d: 0 });
      rep.d = Math.max(rep.d, seq);
    }
  }, []);

  useEffect(() => {
    window.addEventListener('focus', markRead);
    document.addEventListener('visibilitychange', markRead);
    return () => {
      window.removeEventListener('focus', markRead);
      document.removeEventListener('visibilitychange', markRead);
    };
  }, [markRead]);

  const onEvent = useCallback(
    (e: AgentFrame) => {
      dispatch({ kind: 'event', event: e });
      if (e.type === 'chat.message.new' && e.payload.sender_type === 'customer') ackDelivered(e.payload.session_id, e.payload.seq);
      if (e.type === 'chat.resume.done' && e.payload.more) {
        sendRef.current?.('chat.resume', { session_id: e.payload.session_id, after_seq: e.payload.last_seq });
      }
      const s = stateRef.current;
      // The open conversation's file list grows live.
      const sentFiles = e.type === 'chat.message.new' ? e.payload : e.type === 'chat.message.ack' ? e.payload.message : null;
      if (sentFiles && sentFiles.session_id === s.selected && sentFiles.attachments.length > 0) {
        setFiles((f) => [...f, ...sentFiles.attachments.filter((a) => !f.some((x) => x.id === a.id))]);
      }
      if (e.type === 'chat.bot.handoff' && e.payload.session_id === s.selected) setHandoffs((n) => n + 1);
      if (e.type === 'chat.session.started') toast(`New conversation from ${e.payload.customer.name ?? 'a visitor'}`);
      if (e.type === 'chat.mention') toast(`${e.payload.by} mentioned you: ${e.payload.note.body.slice(0, 80)}`);
      if (e.type === 'chat.message.new' && e.payload.sender_type === 'customer') {
        const session = s.sessions[e.payload.session_id];
        if (session?.assigned_agent?.id === me.id && s.selected !== session.id) toast(`${e.payload.sender_name}: ${e.payload.body.slice(0, 80)}`);
      }
    },
    [me.id, toast, ackDelivered],
  );

  // On every (re)connect: refresh the list and resume every loaded thread
  // from its last gapless seq, so nothing that happened while away is lost.
  const onOpen = useCallback(
    (send: SendFrame) => {
      void refresh();
      for (const [sessionId, list] of Object.entries(stateRef.current.messages)) {
        send('chat.resume', { session_id: sessionId, after_seq: contiguousSeq(list) });
      }
    },
    [refresh],
  );

  const send = useLiveSocket(api, {
    onEvent,
    onOpen,
    onLive: (live) => dispatch({ kind: 'live', live }),
    onUnauthorized: onSignOut,
  });
  sendRef.current = send;

  // Search runs on the server (message text is not all loaded here): the
  // conversations by name, email or text, and the matching messages with
  // their snippets, the word being typed as a prefix.
  useEffect(() => {
    const q = filters.q.trim();
    if (!q) {
      setSearchIds(null);
      setHits([]);
      return;
    }
    const t = setTimeout(() => {
      api.sessions({ q }).then((r) => {
        dispatch({ kind: 'sessions', sessions: r.sessions });
        setSearchIds(new Set(r.sessions.map((s) => s.id)));
      }, () => {});
      api.searchMessages(asYouType(filters.q)).then((r) => setHits(r.hits), () => setHits([]));
    }, 250);
    return () => clearTimeout(t);
  }, [api, filters.q]);

  // Whenever the open thread grows, it is read (if someone is looking).
  const selectedLast = state.selected ? contiguousSeq(state.messages[state.selected]) : 0;
  useEffect(() => {
    markRead();
  }, [state.selected, selectedLast, markRead]);

  const visible = useMemo(
    () =>
      sortedSessions(state).filter(
        (s) =>
          (!filters.status || s.status === filters.status) &&
          (filters.assigned === 'any' || (filters.assigned === 'me' ? s.assigned_agent?.id === me.id : !s.assigned_agent)) &&
          (!searchIds || searchIds.has(s.id)),
      ),
    [state, filters, searchIds, me.id],
  );

  const select = useCallback(
    async (id: string, at?: number) => {
      const loaded = stateRef.current.messages[id];
      dispatch({ kind: 'select', sessionId: id });
      setFocusSeq(at ?? null);
      const s = stateRef.current.sessions[id];
      if (!s) return;
      // The thread keeps what arrives live from now on, also while its
      // first page loads: the server does not replay to this socket what
      // it has already written to it.
      if (!loaded) dispatch({ kind: 'messages', sessionId: id, messages: [] });
      api.history(id).then((r) => setHistory(r.sessions), () => setHistory([]));
      api.notes(id).then((r) => dispatch({ kind: 'notes', sessionId: id, notes: r.notes }), () => {});
      api.files(id).then((r) => setFiles(r.attachments), () => setFiles([]));
      try {
        if (at !== undefined && !loaded?.some((m) => m.seq === at)) {
          // A search hit far back: the page around it.
          const { messages } = await api.messagesBefore(id, at + 25, 50);
          dispatch({ kind: 'messages', sessionId: id, messages });
        }
        if (!loaded) {
          const { messages } = await api.messagesBefore(id, s.last_seq + 1, 50);
          dispatch({ kind: 'messages', sessionId: id, messages });
          // Anything that arrived between the page load and now.
          send('chat.resume', { session_id: id, after_seq: contiguousSeq(stateRef.current.messages[id]) });
        }
      } catch {
        if (!loaded) dispatch({ kind: 'unload', sessionId: id });
      }
    },
    [api, send],
  );

  const openHit = useCallback(
    (hit: SearchHit) => {
      dispatch({ kind: 'sessions', sessions: [hit.session] });
      void select(hit.session.id, hit.message.seq);
    },
    [select],
  );

  const downloadTranscript = useCallback(
    async (id: string) => {
      try {
        const blob = await api.transcript(id, 'txt');
        const url = URL.createObjectURL(blob);
        const a = document.createElement('a');
        a.href = url;
        a.download = `transcript-${id}.txt`;
        a.click();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
      } catch {
        toast('The transcript could not be downloaded.');
      }
    },
    [api, toast],
  );

  const selected = state.selected ? state.sessions[state.selected] ?? null : null;

  const deliver = useCallback(
    async (sessionId: string, p: Pending) => {
      dispatch({ kind: 'pending', sessionId, pending: { ...p, failed: false } });
      try {
        const { message } = await api.send(sessionId, p.body, p.client_msg_id, p.attachment_ids ?? []);
        dispatch({ kind: 'event', event: { type: 'chat.message.ack', payload: { client_msg_id: p.client_msg_id, message } } });
      } catch {
        dispatch({ kind: 'failed', sessionId, clientMsgId: p.client_msg_id });
      }
    },
    [api],
  );

  // A file goes up first, then out as its own message.
  const attach = useCallback(
    (sessionId: string, file: File) => {
      const id = newClientId();
      const ctl = new AbortController();
      setUploads((u) => [...u, { id, sessionId, name: file.name, cancel: () => ctl.abort() }]);
      api
        .upload(sessionId, file, ctl.signal)
        .then(
          ({ attachment }) => {
            return deliver(sessionId, { client_msg_id: id, body: '', failed: false, attachment_ids: [attachment.id] });
          },
          (e: unknown) => {
            if (!ctl.signal.aborted) toast(e instanceof Error ? `${file.name}: ${e.message}` : `${file.name} could not be uploaded.`);
          },
        )
        .finally(() => setUploads((u) => u.filter((x) => x.id !== id)));
    },
    [api, deliver, toast],
  );

  const act = useCallback(
    async (fn: () => Promise<{ session: Session }>) => {
      try {
        const { session } = await fn();
        dispatch({ kind: 'sessions', sessions: [session] });
      } catch {
        /* the central handler showed it */
      }
    },
    [],
  );

  // A link from an email (`/?session=<id>`) opens that conversation once
  // the list has it; the parameter leaves the address.
  const linked = useRef(new URLSearchParams(window.location.search).get('session'));
  useEffect(() => {
    const id = linked.current;
    if (!id || !state.sessions[id]) return;
    linked.current = null;
    const url = new URL(window.location.href);
    url.searchParams.delete('session');
    window.history.replaceState(window.history.state, '', url.toString());
    void select(id);
  }, [state.sessions, select]);

  // Tab title shows the unread count.
  const unread = totalUnread(state);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Inbox` : 'Inbox';
  }, [unread]);

  // Keyboard: j/k move, r focuses the reply box, a assigns to me, / searches.
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) {
        if (e.key === 'Escape') t.blur();
        return;
      }
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      const ids = visible.map((s) => s.id);
      const i = state.selected ? ids.indexOf(state.selected) : -1;
      if (e.key === 'j' || e.key === 'ArrowDown') {
        const next = ids[Math.min(ids.length - 1, i + 1)];
        if (next) void select(next);
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        const prev = ids[Math.max(0, i - 1)];
        if (prev) void select(prev);
      } else if (e.key === 'r') {
        document.getElementById('composer')?.focus();
      } else if (e.key === '/') {
        document.getElementById('search')?.focus();
      } else if (e.key === 'a' && state.selected) {
        const id = state.selected;
        void act(() => api.assign(id));
      } else return;
      e.preventDefault();
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [visible, state.selected, select, act, api]);

  const agents = Object.values(state.agents).sort((a, b) => a.name.localeCompare(b.name));
  const queue = useMemo(() => queueOf(state), [state]);
  const load = useMemo(() => loads(state), [state]);
  const setStatus = useCallback(
    (status: AgentStatusRequest['status']) => {
      api.setStatus(status).then(({ agent }) => dispatch({ kind: 'event', event: { type: 'agent.presence', payload: { agent_id: agent.id, name: agent.name, online: true, status: agent.status } } }), () => {});
    },
    [api],
  );

  return (
    <div className="app">
      <header className="top">
        <h1>Inbox</h1>
        <span className={`live ${state.live}`} role="status" aria-label={`Connection: ${state.live}`}>
          {state.live === 'live' ? 'Live' : state.live === 'reconnecting' ? 'Reconnecting…' : 'Offline'}
        </span>
        <span className="hint">j/k move · r reply · a assign to me · / search</span>
        <span className="mentions">
          <button type="button" aria-expanded={showMentions} onClick={() => setShowMentions((v) => !v)}>
            Mentions{state.mentions.length > 0 ? ` (${state.mentions.length})` : ''}
          </button>
          {showMentions && (
            <ul aria-label="Mentions">
              {state.mentions.length === 0 && <li className="muted">Nobody mentioned you yet</li>}
              {state.mentions.map((m) => (
                <li key={m.note.id} onClick={() => { setShowMentions(false); void select(m.session_id, m.note.after_seq || undefined); }}>
                  <strong>{m.by}</strong>: {m.note.body.slice(0, 100)}
                </li>
              ))}
            </ul>
          )}
        </span>
        <span className="me">{me.name}</span>
        <select className={`my-status ${state.me.status}`} aria-label="Your status" value={state.me.status} onChange={(e) => setStatus(e.target.value as AgentStatusRequest['status'])}>
          <option value="online">Online</option>
          <option value="away">Away</option>
          <option value="busy">Busy</option>
        </select>
        <button type="button" onClick={onTeam}>
          Team
        </button>
        <button type="button" onClick={onReports}>
          Reports
        </button>
        <button
          type="button"
          onClick={() => {
            void api.logout().finally(onSignOut);
          }}
        >
          Sign out
        </button>
      </header>
      <main className="panels">
        <ConversationList sessions={visible} selected={state.selected} unread={state.unread} filters={filters} onFilters={setFilters} onSelect={(id) => void select(id)} hits={hits} onHit={openHit} />
        <Thread
          me={me}
          session={selected}
          messages={selected ? state.messages[selected.id] ?? [] : []}
          pending={selected ? state.pending[selected.id] ?? [] : []}
          typing={selected ? state.typing[selected.id] ?? null : null}
          agents={agents}
          onSend={(body) => {
            if (!selected) return;
            setLastReply({ sessionId: selected.id, body });
            void deliver(selected.id, { client_msg_id: newClientId(), body, failed: false });
          }}
          assist={(insert) =>
            selected && (
              <Assist
                api={api}
                session={selected}
                messages={state.messages[selected.id] ?? []}
                handoffs={handoffs}
                lastReply={lastReply?.sessionId === selected.id ? lastReply.body : null}
                onInsert={insert}
              />
            )
          }
          onRetry={(p) => selected && void deliver(selected.id, p)}
          onTyping={(on) => selected && send('chat.typing', { session_id: selected.id, is_typing: on })}
          onLoadOlder={() => {
            const list = selected ? state.messages[selected.id] : undefined;
            const first = list?.[0]?.seq;
            if (selected && first && first > 1) api.messagesBefore(selected.id, first, 50).then((r) => dispatch({ kind: 'messages', sessionId: selected.id, messages: r.messages }), () => {});
          }}
          onAssign={(agentId) => selected && void act(() => api.assign(selected.id, agentId))}
          onClose={(sendTranscript) => selected && void act(() => api.close(selected.id, sendTranscript))}
          onReopen={() => selected && void act(() => api.reopen(selected.id))}
          onTranscript={() => selected && void downloadTranscript(selected.id)}
          focusSeq={focusSeq}
          notes={selected ? state.notes[selected.id] ?? [] : []}
          onNote={(body) => {
            if (selected) api.addNote(selected.id, body).then((r) => dispatch({ kind: 'notes', sessionId: selected.id, notes: [r.note] }), () => {});
          }}
          canned={canned}
          labels={labels}
          onLabels={(names) => selected && void act(() => api.setLabels(selected.id, names))}
          onAttach={(file) => selected && attach(selected.id, file)}
          uploads={uploads.filter((u) => u.sessionId === selected?.id)}
        />
        <aside className="side">
          <QueuePanel queue={queue} auto={autoAssign} onSelect={(id) => void select(id)} />
          <Teammates agents={agents} loads={load} />
          <CustomerPanel session={selected} history={history} files={files} />
        </aside>
      </main>
      <div className="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className="toast">{t.text}</div>
        ))}
      </div>
    </div>
  );
}
