// The queue (conversations waiting for a person, in the order they are
// served, with how long each has waited) and the team's availability and
// load.
import { useEffect, useState } from 'react';
import type { Agent, Session } from '../../api/wire';
import { waited } from './state';

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export function QueuePanel({ queue, auto, onSelect }: { queue: Session[]; auto: boolean; onSelect: (id: string) => void }) {
  const now = useNow(10_000);
  return (
    <section className="queue" aria-label="Queue">
      <h3>
        Waiting {queue.length > 0 && <span className="count">{queue.length}</span>}
        <span className="muted">{auto ? ' · assigned automatically' : ' · pick one up'}</span>
      </h3>
      {queue.length === 0 ? (
        <p className="muted">Nobody is waiting</p>
      ) : (
        <ol>
          {queue.slice(0, 20).map((s, i) => (
            <li key={s.id} data-session-id={s.id} onClick={() => onSelect(s.id)}>
              <span className="pos">#{i + 1}</span> <strong>{s.customer.name ?? s.customer.email ?? 'Visitor'}</strong>{' '}
              <span className="wait">waiting {s.queued_at ? waited(s.queued_at, now) : ''}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

const LABEL: Record<string, string> = { online: 'Online', away: 'Away', busy: 'Busy' };

export function Teammates({ agents, loads }: { agents: Agent[]; loads: Record<string, number> }) {
  return (
    <section className="teammates" aria-label="Team availability">
      <h3>Team</h3>
      <ul>
        {agents
          .filter((a) => a.active)
          .map((a) => {
            const state = a.online ? a.status : 'offline';
            return (
              <li key={a.id} data-agent-id={a.id} data-state={state}>
                <span className={`dot ${state}`} aria-hidden="true" /> {a.name}{' '}
                <span className="muted">
                  {a.online ? LABEL[a.status] ?? a.status : 'Offline'} · {loads[a.id] ?? 0}/{a.max_concurrent}
                </span>
              </li>
            );
          })}
      </ul>
    </section>
  );
}
