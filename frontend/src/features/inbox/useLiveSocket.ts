// The agent's WebSocket: a single-use ticket per connection (browsers cannot
// set headers on a WebSocket), exponential backoff with jitter, and an
// `onOpen` callback that resumes every loaded conversation, also run when
// the server sends `chat.resync`.

import { useEffect, useRef } from 'react';
import { ApiError, type Api } from '../../api/client';
import type { AgentFrame, ClientFrame } from '../../api/wire';
import type { Live } from './state';

export type SendFrame = (type: ClientFrame['type'], payload: unknown) => boolean;

interface Handlers {
  onEvent: (e: AgentFrame) => void;
  onOpen: (send: SendFrame) => void;
  onLive: (live: Live) => void;
  onUnauthorized: () => void;
}

export function useLiveSocket(api: Api, handlers: Handlers): SendFrame {
  const h = useRef(handlers);
  h.current = handlers;
  const socket = useRef<WebSocket | null>(null);

  useEffect(() => {
    let stopped = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const schedule = () => {
      attempt += 1;
      h.current.onLive(attempt > 3 ? 'offline' : 'reconnecting');
      const delay = Math.min(15000, 500 * 2 ** (attempt - 1));
      timer = setTimeout(connect, delay / 2 + (Math.random() * delay) / 2);
    };

    async function connect() {
      if (stopped) return;
      let ticket: string;
      try {
        ticket = (await api.ticket()).ticket;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) h.current.onUnauthorized();
        else schedule();
        return;
      }
      if (stopped) return;
      const ws = new WebSocket(`${window.location.origin.replace(/^http/, 'ws')}/ws?ticket=${encodeURIComponent(ticket)}`);
      socket.current = ws;
      ws.onopen = () => {
        attempt = 0;
        h.current.onLive('live');
        h.current.onOpen(send);
      };
      ws.onmessage = (ev: MessageEvent<string>) => {
        try {
          const frame = JSON.parse(ev.data) as AgentFrame;
          // The cluster bridge was away: events may be missing. Catch up
          // as after a reconnect (the list and every loaded thread).
          if (frame.type === 'chat.resync') h.current.onOpen(send);
          else h.current.onEvent(frame);
        } catch {
          /* not JSON: ignore */
        }
      };
      ws.onclose = (ev) => {
        if (socket.current === ws) socket.current = null;
        if (stopped) return;
        if (ev.code === 4001) h.current.onUnauthorized();
        else schedule();
      };
    }

    void connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      socket.current?.close(1000);
      socket.current = null;
    };
  }, [api]);

  function send(type: string, payload: unknown): boolean {
    const ws = socket.current;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify({ type, payload }));
    return true;
  }
  return send;
}
