// The inbox's state and the one reducer that applies server events to it.
// Pure: no IO, so it is tested without a browser.

import type { Agent, Message, AgentFrame, MentionPayload, Note, Session } from '../../api/wire';

export type Live = 'live' | 'reconnecting' | 'offline';

export interface Pending {
  client_msg_id: string;
  body: string;
  failed: boolean;
  /** Uploaded files it sends. */
  attachment_ids?: string[];
}

export interface InboxState {
  me: Agent;
  sessions: Record<string, Session>;
  /** Messages per session, sorted by seq, one per seq. */
  messages: Record<string, Message[]>;
  /** Own messages sent but not yet confirmed, per session. */
  pending: Record<string, Pending[]>;
  /** Customer messages no agent has read yet: the server's count, shared
   * by the team, kept up to date by events. */
  unread: Record<string, number>;
  typing: Record<string, string | null>;
  /** Private notes per session, in timeline order, one per id. */
  notes: Record<string, Note[]>;
  /** Notes that mention me, newest first. */
  mentions: MentionPayload[];
  agents: Record<string, Agent>;
  selected: string | null;
  live: Live;
}

export type Action =
  | { kind: 'event'; event: AgentFrame }
  | { kind: 'sessions'; sessions: Session[] }
  | { kind: 'messages'; sessionId: string; messages: Message[] }
  /** Forgets a thread whose first page did not load: the next opening
   * loads it again. */
  | { kind: 'unload'; sessionId: string }
  | { kind: 'notes'; sessionId: string; notes: Note[] }
  | { kind: 'agents'; agents: Agent[] }
  | { kind: 'select'; sessionId: string | null }
  | { kind: 'pending'; sessionId: string; pending: Pending }
  | { kind: 'failed'; sessionId: string; clientMsgId: string }
  | { kind: 'typingExpired'; sessionId: string }
  | { kind: 'live'; live: Live };

export function initialState(me: Agent): InboxState {
  return { me, sessions: {}, messages: {}, pending: {}, unread: {}, typing: {}, notes: {}, mentions: [], agents: {}, selected: null, live: 'reconnecting' };
}

/** Notes merged by id, ordered by where they sit in the thread. */
export function mergeNotes(list: Note[], incoming: Note[]): Note[] {
  const byId = new Map<string, Note>();
  for (const n of [...list, ...incoming]) byId.set(n.id, n);
  return [...byId.values()].sort((a, b) => a.after_seq - b.after_seq || (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
}

/** Merges messages into a seq-sorted list, one per seq (and per id). */
export function mergeMessages(list: Message[], incoming: Message[]): Message[] {
  const bySeq = new Map<number, Message>();
  for (const m of list) bySeq.set(m.seq, m);
  for (const m of incoming) if (!bySeq.has(m.seq)) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The highest seq up to which nothing is missing: where a resume starts. */
export function contiguousSeq(list: Message[] | undefined): number {
  let last = 0;
  for (const m of list ?? []) {
    if (m.seq === last + 1) last = m.seq;
    else if (m.seq > last + 1) break;
  }
  return last;
}

/** Newest activity first. */
export function sortedSessions(state: InboxState): Session[] {
  return Object.values(state.sessions).sort((a, b) => (a.last_activity_at < b.last_activity_at ? 1 : a.last_activity_at > b.last_activity_at ? -1 : a.id < b.id ? 1 : -1));
}

function upsert(state: InboxState, s: Session): InboxState {
  const old = state.sessions[s.id];
  // Never let an older snapshot overwrite a newer one's counters.
  let merged = old && old.last_seq > s.last_seq ? { ...s, last_seq: old.last_seq, last_message_preview: old.last_message_preview, last_activity_at: old.last_activity_at > s.last_activity_at ? old.last_activity_at : s.last_activity_at, unread_count: old.unread_count } : s;
  if (old) {
    // Receipt pointers only move up.
    merged = {
      ...merged,
      customer_delivered_seq: Math.max(old.customer_delivered_seq, merged.customer_delivered_seq),
      customer_read_seq: Math.max(old.customer_read_seq, merged.customer_read_seq),
      agent_delivered_seq: Math.max(old.agent_delivered_seq, merged.agent_delivered_seq),
      agent_read_seq: Math.max(old.agent_read_seq, merged.agent_read_seq),
    };
  }
  return { ...state, sessions: { ...state.sessions, [s.id]: merged }, unread: { ...state.unread, [s.id]: merged.unread_count } };
}

function addMessage(state: InboxState, m: Message): InboxState {
  const list = state.messages[m.session_id];
  const known = list?.some((x) => x.seq === m.seq || x.id === m.id) ?? false;
  const pending = (state.pending[m.session_id] ?? []).filter((p) => p.client_msg_id !== m.client_msg_id);
  let next: InboxState = { ...state, pending: { ...state.pending, [m.session_id]: pending } };
  if (known) return next;
  if (list) next = { ...next, messages: { ...next.messages, [m.session_id]: mergeMessages(list, [m]) } };
  const s = next.sessions[m.session_id];
  if (s && m.seq > s.last_seq) {
    next = { ...next, sessions: { ...next.sessions, [s.id]: { ...s, last_seq: m.seq, last_message_preview: preview(m.body), last_activity_at: m.created_at > s.last_activity_at ? m.created_at : s.last_activity_at } } };
  }
  // The server counts customer messages after the team's read pointer.
  const cur = next.sessions[m.session_id];
  if (m.sender_type === 'customer' && cur && m.seq > cur.agent_read_seq) {
    const n = (next.unread[m.session_id] ?? 0) + 1;
    next = { ...next, unread: { ...next.unread, [m.session_id]: n }, sessions: { ...next.sessions, [cur.id]: { ...cur, unread_count: n } } };
  }
  if (m.sender_type === 'customer') next = { ...next, typing: { ...next.typing, [m.session_id]: null } };
  return next;
}

function preview(body: string): string {
  return body.length > 140 ? `${body.slice(0, 140)}…` : body;
}

export function reduce(state: InboxState, action: Action): InboxState {
  switch (action.kind) {
    case 'sessions':
      return action.sessions.reduce(upsert, state);
    case 'messages': {
      const list = mergeMessages(state.messages[action.sessionId] ?? [], action.messages);
      return { ...state, messages: { ...state.messages, [action.sessionId]: list } };
    }
    case 'unload': {
      const { [action.sessionId]: _gone, ...messages } = state.messages;
      return { ...state, messages };
    }
    case 'notes':
      return { ...state, notes: { ...state.notes, [action.sessionId]: mergeNotes(state.notes[action.sessionId] ?? [], action.notes) } };
    case 'agents':
      return { ...state, agents: Object.fromEntries(action.agents.map((a) => [a.id, a])) };
    case 'select':
      return { ...state, selected: action.sessionId };
    case 'pending':
      return { ...state, pending: { ...state.pending, [action.sessionId]: [...(state.pending[action.sessionId] ?? []).filter((p) => p.client_msg_id !== action.pending.client_msg_id), action.pending] } };
    case 'failed':
      return { ...state, pending: { ...state.pending, [action.sessionId]: (state.pending[action.sessionId] ?? []).map((p) => (p.client_msg_id === action.clientMsgId ? { ...p, failed: true } : p)) } };
    case 'typingExpired':
      return { ...state, typing: { ...state.typing, [action.sessionId]: null } };
    case 'live':
      return { ...state, live: action.live };
    case 'event':
      return applyEvent(state, action.event);
  }
}

function applyEvent(state: InboxState, e: AgentFrame): InboxState {
  switch (e.type) {
    case 'chat.session.started':
      return upsert(state, e.payload);
    case 'chat.message.new':
      return addMessage(state, e.payload);
    case 'chat.message.ack':
      return addMessage(state, e.payload.message);
    case 'chat.session.assigned':
    case 'chat.session.closed':
    case 'chat.session.reopened':
    case 'chat.session.updated':
    case 'chat.session.rated':
      return upsert(state, e.payload.session);
    case 'chat.note.new': {
      const n = e.payload;
      return { ...state, notes: { ...state.notes, [n.session_id]: mergeNotes(state.notes[n.session_id] ?? [], [n]) } };
    }
    case 'chat.mention':
      if (state.mentions.some((m) => m.note.id === e.payload.note.id)) return state;
      return { ...state, mentions: [e.payload, ...state.mentions].slice(0, 50) };
    case 'chat.typing':
      if (e.payload.sender_type !== 'customer') return state;
      return { ...state, typing: { ...state.typing, [e.payload.session_id]: e.payload.is_typing ? e.payload.name : null } };
    case 'chat.receipt': {
      const p = e.payload;
      const s = state.sessions[p.session_id];
      if (!s) return state;
      const side = p.side === 'customer' ? { customer_delivered_seq: Math.max(s.customer_delivered_seq, p.delivered_seq), customer_read_seq: Math.max(s.customer_read_seq, p.read_seq) } : { agent_delivered_seq: Math.max(s.agent_delivered_seq, p.delivered_seq), agent_read_seq: Math.max(s.agent_read_seq, p.read_seq) };
      const unread = p.unread_count ?? s.unread_count;
      return { ...state, sessions: { ...state.sessions, [s.id]: { ...s, ...side, unread_count: unread } }, unread: { ...state.unread, [s.id]: unread } };
    }
    case 'agent.presence': {
      const p = e.payload;
      const me = p.agent_id === state.me.id ? { ...state.me, status: p.status } : state.me;
      const a = state.agents[p.agent_id];
      if (!a) return { ...state, me };
      return { ...state, me, agents: { ...state.agents, [a.id]: { ...a, online: p.online, status: p.status } } };
    }
    default:
      return state;
  }
}

/** The conversations waiting for a person, in the order they are served. */
export function queueOf(state: InboxState): Session[] {
  return Object.values(state.sessions)
    .filter((s) => s.status === 'pending' && s.queued_at !== null)
    .sort((a, b) => ((a.queued_at ?? '') < (b.queued_at ?? '') ? -1 : (a.queued_at ?? '') > (b.queued_at ?? '') ? 1 : a.id < b.id ? -1 : 1));
}

/** Open conversations per agent, as far as this dashboard has them. */
export function loads(state: InboxState): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of Object.values(state.sessions)) {
    if (s.status === 'open' && s.assigned_agent) out[s.assigned_agent.id] = (out[s.assigned_agent.id] ?? 0) + 1;
  }
  return out;
}

/** "3 min", "45 s": how long someone has waited. */
export function waited(since: string, now: number): string {
  const secs = Math.max(0, Math.round((now - Date.parse(since)) / 1000));
  if (secs < 60) return `${secs} s`;
  const mins = Math.floor(secs / 60);
  return mins < 60 ? `${mins} min` : `${Math.floor(mins / 60)} h ${mins % 60} min`;
}

/** Total unread across conversations, for the tab title. */
export function totalUnread(state: InboxState): number {
  return Object.values(state.unread).reduce((a, b) => a + b, 0);
}
