import { describe, expect, it } from 'vitest';
import type { Agent, Message, Session } from '../../api/wire';
import { contiguousSeq, initialState, loads, queueOf, reduce, sortedSessions, totalUnread, waited, type InboxState } from './state';
import type { Note } from '../../api/wire';

const me: Agent = { id: 'me', name: 'Alex', email: 'a@x.test', role: 'agent', active: true, created_at: '2026-01-01T00:00:00.000Z', status: 'online', max_concurrent: 5, max_concurrent_is_default: true };

function session(id: string, at: string, lastSeq = 0): Session {
  return {
    id, status: 'pending', customer: { id: `c-${id}`, name: id, email: null, attributes: {} }, assigned_agent: null,
    context: { page_url: null, referrer: null, user_agent: null, locale: null },
    created_at: at, last_activity_at: at, last_seq: lastSeq, last_message_preview: null,
    customer_delivered_seq: 0, customer_read_seq: 0, agent_delivered_seq: 0, agent_read_seq: 0, unread_count: 0, labels: [], queued_at: null, rating: null, offline: false,
  };
}

function msg(sessionId: string, seq: number, extra: Partial<Message> = {}): Message {
  return {
    id: `${sessionId}-${seq}`, session_id: sessionId, seq, sender_type: 'customer', sender_id: 'c', sender_name: 'Ada',
    body: `m${seq}`, created_at: `2026-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`, client_msg_id: null, attachments: [], ...extra,
  };
}

function withThread(id: string): InboxState {
  let s = reduce(initialState(me), { kind: 'sessions', sessions: [session(id, '2026-01-01T00:00:00.000Z')] });
  s = reduce(s, { kind: 'messages', sessionId: id, messages: [] });
  return s;
}

const event = (e: Parameters<typeof reduce>[1] & { kind: 'event' }) => e;

describe('messages', () => {
  it('are kept in seq order whatever order they arrive in', () => {
    let s = withThread('s1');
    for (const seq of [3, 1, 2]) s = reduce(s, event({ kind: 'event', event: { type: 'chat.message.new', payload: msg('s1', seq) } }));
    expect(s.messages.s1?.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('that arrive live while an opened thread\'s first page loads are kept, and a failed load forgets the thread', () => {
    // Opening: the thread exists (empty) before its page is fetched.
    let s = withThread('s1');
    // The bot's reply goes out live before the page (read before the reply
    // was stored) lands; the server will not replay it to this socket.
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.message.new', payload: msg('s1', 2, { sender_type: 'bot' }) } }));
    s = reduce(s, { kind: 'messages', sessionId: 's1', messages: [msg('s1', 1)] });
    expect(s.messages.s1?.map((m) => [m.seq, m.sender_type])).toEqual([[1, 'customer'], [2, 'bot']]);
    expect(contiguousSeq(s.messages.s1)).toBe(2);
    // A thread never opened keeps nothing live (its page brings it all).
    s = reduce(s, { kind: 'sessions', sessions: [session('s2', '2026-01-01T00:00:00.000Z')] });
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.message.new', payload: msg('s2', 1) } }));
    expect(s.messages.s2).toBeUndefined();
    // A first page that failed: the thread is forgotten, to load again.
    s = reduce(s, { kind: 'unload', sessionId: 's1' });
    expect(s.messages.s1).toBeUndefined();
    expect(s.sessions.s1?.last_seq).toBe(2);
  });

  it('are de-duplicated by seq and by id', () => {
    let s = withThread('s1');
    const m = msg('s1', 1);
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.message.new', payload: m } }));
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.message.new', payload: m } }));
    s = reduce(s, { kind: 'messages', sessionId: 's1', messages: [m, msg('s1', 2)] });
    expect(s.messages.s1?.map((x) => x.seq)).toEqual([1, 2]);
  });

  it('replace the pending copy with the same client_msg_id', () => {
    let s = withThread('s1');
    s = reduce(s, { kind: 'pending', sessionId: 's1', pending: { client_msg_id: 'c-1', body: 'hi', failed: false } });
    expect(s.pending.s1).toHaveLength(1);
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.message.new', payload: msg('s1', 1, { sender_type: 'agent', sender_id: 'me', client_msg_id: 'c-1', body: 'hi' }) } }));
    expect(s.pending.s1).toEqual([]);
    expect(s.messages.s1?.map((x) => x.body)).toEqual(['hi']);
  });

  it('mark a pending send as failed without dropping it', () => {
    let s = withThread('s1');
    s = reduce(s, { kind: 'pending', sessionId: 's1', pending: { client_msg_id: 'c-1', body: 'hi', failed: false } });
    s = reduce(s, { kind: 'failed', sessionId: 's1', clientMsgId: 'c-1' });
    expect(s.pending.s1).toEqual([{ client_msg_id: 'c-1', body: 'hi', failed: true }]);
  });

  it('tell the resume point: the last seq without a gap', () => {
    expect(contiguousSeq([msg('s', 1), msg('s', 2), msg('s', 4)])).toBe(2);
    expect(contiguousSeq([])).toBe(0);
    expect(contiguousSeq(undefined)).toBe(0);
  });
});

describe('the conversation list', () => {
  it('puts the conversation with the newest activity first', () => {
    let s = reduce(initialState(me), { kind: 'sessions', sessions: [session('a', '2026-01-01T00:00:01.000Z'), session('b', '2026-01-01T00:00:02.000Z')] });
    expect(sortedSessions(s).map((x) => x.id)).toEqual(['b', 'a']);
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.message.new', payload: msg('a', 1, { created_at: '2026-01-01T00:00:09.000Z' }) } }));
    expect(sortedSessions(s).map((x) => x.id)).toEqual(['a', 'b']);
    expect(s.sessions.a?.last_message_preview).toBe('m1');
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.session.started', payload: session('c', '2026-01-01T00:00:10.000Z') } }));
    expect(sortedSessions(s)[0]?.id).toBe('c');
  });

  it('does not let an older snapshot undo newer counters', () => {
    let s = reduce(initialState(me), { kind: 'sessions', sessions: [session('a', '2026-01-01T00:00:05.000Z', 5)] });
    s = reduce(s, { kind: 'sessions', sessions: [{ ...session('a', '2026-01-01T00:00:01.000Z', 2), status: 'open' }] });
    expect(s.sessions.a?.last_seq).toBe(5);
    expect(s.sessions.a?.status).toBe('open');
  });
});

describe('unread counts', () => {
  it('start from the server, count customer messages only, and follow the team\'s read receipts', () => {
    let s = reduce(initialState(me), { kind: 'sessions', sessions: [{ ...session('a', '2026-01-01T00:00:00.000Z', 1), unread_count: 1 }, session('b', '2026-01-01T00:00:00.000Z')] });
    expect(s.unread).toEqual({ a: 1, b: 0 });
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.message.new', payload: msg('a', 2) } }));
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.message.new', payload: msg('a', 3, { sender_type: 'agent', sender_id: 'other' }) } }));
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.message.new', payload: msg('b', 1, { sender_type: 'bot' }) } }));
    expect(s.unread).toEqual({ a: 2, b: 0 });
    expect(totalUnread(s)).toBe(2);
    // Another agent read up to 2: the server's count wins.
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.receipt', payload: { session_id: 'a', side: 'agent', delivered_seq: 2, read_seq: 2, agent_name: 'Bo', unread_count: 0 } } }));
    expect(totalUnread(s)).toBe(0);
    expect(s.sessions.a?.agent_read_seq).toBe(2);
    // An older snapshot does not lower a pointer.
    s = reduce(s, { kind: 'sessions', sessions: [{ ...session('a', '2026-01-01T00:00:00.000Z', 3), agent_read_seq: 1 }] });
    expect(s.sessions.a?.agent_read_seq).toBe(2);
  });

  it('track the customer\'s receipts for the ticks', () => {
    let s = reduce(initialState(me), { kind: 'sessions', sessions: [session('a', '2026-01-01T00:00:00.000Z', 2)] });
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.receipt', payload: { session_id: 'a', side: 'customer', delivered_seq: 2, read_seq: 1 } } }));
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.receipt', payload: { session_id: 'a', side: 'customer', delivered_seq: 1, read_seq: 0 } } }));
    expect([s.sessions.a?.customer_delivered_seq, s.sessions.a?.customer_read_seq]).toEqual([2, 1]);
  });
});

describe('presence and typing', () => {
  it('track agents online and customers typing', () => {
    let s = reduce(initialState(me), { kind: 'agents', agents: [{ ...me, online: false }] });
    s = reduce(s, event({ kind: 'event', event: { type: 'agent.presence', payload: { agent_id: 'me', name: 'Alex', online: true, status: 'online' } } }));
    expect(s.agents.me?.online).toBe(true);
    s = reduce(s, event({ kind: 'event', event: { type: 'agent.presence', payload: { agent_id: 'me', name: 'Alex', online: true, status: 'away' } } }));
    expect([s.agents.me?.status, s.me.status]).toEqual(['away', 'away']);
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.typing', payload: { session_id: 'a', sender_type: 'customer', name: 'Ada', is_typing: true } } }));
    expect(s.typing.a).toBe('Ada');
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.typing', payload: { session_id: 'a', sender_type: 'customer', name: 'Ada', is_typing: false } } }));
    expect(s.typing.a).toBeNull();
  });
});

describe('notes and mentions', () => {
  const note = (id: string, after: number): Note => ({ id, session_id: 'a', after_seq: after, author_id: 'x', author_name: 'Bo', body: id, created_at: `2026-01-01T00:00:0${after}.000Z` });
  it('keep notes in timeline order, once each, and collect my mentions', () => {
    let s = reduce(initialState(me), { kind: 'notes', sessionId: 'a', notes: [note('n2', 2)] });
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.note.new', payload: note('n1', 1) } }));
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.note.new', payload: note('n2', 2) } }));
    expect(s.notes.a?.map((n) => n.id)).toEqual(['n1', 'n2']);
    const mention = { session_id: 'a', note: note('n1', 1), by: 'Bo' };
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.mention', payload: mention } }));
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.mention', payload: mention } }));
    expect(s.mentions).toHaveLength(1);
  });
});

describe('the queue and the load', () => {
  it('lists waiting conversations by arrival and counts open ones per agent', () => {
    const queued = (id: string, at: string | null): Session => ({ ...session(id, '2026-01-01T00:00:00.000Z'), queued_at: at });
    const open = (id: string, agent: string): Session => ({ ...session(id, '2026-01-01T00:00:00.000Z'), status: 'open', assigned_agent: { id: agent, name: agent } });
    let s = reduce(initialState(me), { kind: 'sessions', sessions: [queued('late', '2026-01-01T00:05:00.000Z'), queued('early', '2026-01-01T00:01:00.000Z'), queued('bot', null), open('o1', 'me'), open('o2', 'me'), open('o3', 'bo')] });
    expect(queueOf(s).map((x) => x.id)).toEqual(['early', 'late']);
    expect(loads(s)).toEqual({ me: 2, bo: 1 });
    s = reduce(s, event({ kind: 'event', event: { type: 'chat.session.assigned', payload: { session_id: 'early', agent_id: 'me', agent_name: 'Alex', previous_agent_id: null, session: { ...open('early', 'me'), queued_at: null } } } }));
    expect(queueOf(s).map((x) => x.id)).toEqual(['late']);
    expect(loads(s).me).toBe(3);
    expect(waited('2026-01-01T00:00:00.000Z', Date.parse('2026-01-01T00:02:05.000Z'))).toBe('2 min');
    expect(waited('2026-01-01T00:00:00.000Z', Date.parse('2026-01-01T00:00:09.000Z'))).toBe('9 s');
  });
});
