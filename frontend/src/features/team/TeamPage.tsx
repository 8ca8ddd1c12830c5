// The team: who is on it and online; admins invite, change roles and
// deactivate; everyone changes their own password.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, type Api } from '../../api/client';
import type { Agent, EmailSettingsView, Role } from '../../api/wire';
import { DeskSettings } from './DeskSettings';
import { KnowledgeBase } from './KnowledgeBase';
import { BusinessHoursForm, WidgetSettings } from './WidgetSettings';

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : 'Something went wrong.';
}

export function TeamPage({ api, me, onBack }: { api: Api; me: Agent; onBack: () => void }) {
  const [agents, setAgents] = useState<Agent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const isAdmin = me.role === 'admin';

  const load = useCallback(() => {
    api.agents().then((r) => setAgents(r.agents), (e: unknown) => setError(message(e)));
  }, [api]);
  useEffect(load, [load]);

  const update = async (agent: Agent, change: { role?: Role; active?: boolean; max_concurrent?: number | null }) => {
    setError(null);
    try {
      await api.updateAgent(agent.id, change);
      load();
    } catch (e) {
      setError(message(e));
    }
  };

  return (
    <div className="app">
      <header className="top">
        <h1>Team</h1>
        <span className="me">{me.name}</span>
        <button type="button" onClick={onBack}>
          Inbox
        </button>
      </header>
      <main className="team">
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <table aria-label="Agents">
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th>Role</th>
              <th>State</th>
              <th>Availability</th>
              <th>Load / cap</th>
              {isAdmin && <th />}
            </tr>
          </thead>
          <tbody>
            {agents.map((a) => (
              <tr key={a.id} data-email={a.email}>
                <td>
                  <span className={`dot ${a.online ? 'on' : 'off'}`} aria-label={a.online ? 'online' : 'offline'} /> {a.name}
                </td>
                <td>{a.email}</td>
                <td>
                  {isAdmin ? (
                    <select aria-label={`Role of ${a.name}`} value={a.role} onChange={(e) => void update(a, { role: e.target.value as Role })}>
                      <option value="agent">agent</option>
                      <option value="admin">admin</option>
                    </select>
                  ) : (
                    a.role
                  )}
                </td>
                <td className="state">{a.active ? 'Active' : 'Deactivated'}</td>
                <td className="availability">{a.online ? a.status : 'offline'}</td>
                <td className="load">
                  {a.open_conversations ?? 0} /{' '}
                  {isAdmin ? (
                    <input
                      type="number"
                      min={1}
                      max={100}
                      aria-label={`Most conversations for ${a.name}`}
                      defaultValue={a.max_concurrent}
                      key={`${a.id}-${a.max_concurrent}`}
                      onBlur={(e) => {
                        const n = Number(e.target.value);
                        if (n !== a.max_concurrent) void update(a, { max_concurrent: e.target.value === '' ? null : n });
                      }}
                    />
                  ) : (
                    a.max_concurrent
                  )}
                </td>
                {isAdmin && (
                  <td>
                    <button type="button" onClick={() => void update(a, { active: !a.active })}>
                      {a.active ? `Deactivate ${a.name}` : `Reactivate ${a.name}`}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        <div className="forms">
          {isAdmin && <NewAgent api={api} onCreated={load} />}
          <ChangePassword api={api} />
          <Notifications api={api} />
        </div>
        <EmailStatus api={api} />
        {isAdmin && <AssignmentForm api={api} onSaved={load} />}
        {isAdmin && <WidgetSettings api={api} />}
        {isAdmin && <BusinessHoursForm api={api} />}
        {isAdmin && <DeskSettings api={api} />}
        {isAdmin && <KnowledgeBase api={api} />}
      </main>
    </div>
  );
}

/** The signed-in agent's own notification setting. */
function Notifications({ api }: { api: Api }) {
  const [on, setOn] = useState<boolean | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  useEffect(() => {
    api.notifications().then((r) => setOn(r.notifications.email_when_offline), (e: unknown) => setStatus(message(e)));
  }, [api]);
  const change = async (value: boolean) => {
    const before = on;
    setOn(value);
    setStatus(null);
    try {
      const r = await api.setNotifications({ email_when_offline: value });
      setOn(r.notifications.email_when_offline);
      setStatus('Saved.');
    } catch (e) {
      setOn(before);
      setStatus(message(e));
    }
  };
  return (
    <form aria-label="Notifications" onSubmit={(e) => e.preventDefault()}>
      <h2>Notifications</h2>
      <label>
        <input type="checkbox" disabled={on === null} checked={on ?? false} onChange={(e) => void change(e.target.checked)} /> Email me a conversation given to me while I am away
      </label>
      {status && <p role="status">{status}</p>}
    </form>
  );
}

/** Whether outgoing email is set up; without it the email features are off. */
function EmailStatus({ api }: { api: Api }) {
  const [email, setEmail] = useState<EmailSettingsView | null>(null);
  useEffect(() => {
    api.emailSettings().then((r) => setEmail(r.email), () => setEmail(null));
  }, [api]);
  if (!email) return null;
  return (
    <section aria-label="Email" className="email-status">
      <h2>Email</h2>
      {email.enabled ? (
        <p>
          Outgoing email is on, from <strong>{email.from}</strong>. A reply a customer has not received after {email.unseen_delay_secs} s is emailed to them, with a link back into the
          conversation; customers can get the transcript when a conversation ends; agents away get an email for a conversation given to them.
        </p>
      ) : (
        <p className="muted">
          Outgoing email is off: no replies, transcripts or notifications are emailed. Set <code>CHAT__SMTP__URL</code> and <code>CHAT__SMTP__FROM</code> on the server to turn it on.
        </p>
      )}
    </section>
  );
}

function NewAgent({ api, onCreated }: { api: Api; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('agent');
  const [status, setStatus] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api.createAgent({ name, email, password, role });
      setStatus(`Added ${name}.`);
      setName('');
      setEmail('');
      setPassword('');
      onCreated();
    } catch (err) {
      setStatus(message(err));
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Add an agent">
      <h2>Add an agent</h2>
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        New agent's email <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
      </label>
      <label>
        Initial password <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={8} />
      </label>
      <label>
        Role
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          <option value="agent">agent</option>
          <option value="admin">admin</option>
        </select>
      </label>
      <button type="submit">Add agent</button>
      {status && <p role="status">{status}</p>}
    </form>
  );
}

function ChangePassword({ api }: { api: Api }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api.changePassword({ current_password: current, new_password: next });
      setStatus('Password changed. Your other sessions were signed out.');
      setCurrent('');
      setNext('');
    } catch (err) {
      setStatus(message(err));
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Change your password">
      <h2>Change your password</h2>
      <label>
        Current password <input type="password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
      </label>
      <label>
        New password <input type="password" value={next} onChange={(e) => setNext(e.target.value)} required minLength={8} />
      </label>
      <button type="submit">Change password</button>
      {status && <p role="status">{status}</p>}
    </form>
  );
}

function AssignmentForm({ api, onSaved }: { api: Api; onSaved: () => void }) {
  const [mode, setMode] = useState('manual');
  const [cap, setCap] = useState(5);
  // The fields wait for the stored settings: an answer that arrived after
  // the admin had changed them would otherwise put the old values back
  // just before the admin saves.
  const [loaded, setLoaded] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  useEffect(() => {
    api.assignmentSettings().then((s) => {
      setMode(s.assignment);
      setCap(s.default_max_concurrent);
      setLoaded(true);
    }, (e: unknown) => setStatus(message(e)));
  }, [api]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const s = await api.setAssignmentSettings({ assignment: mode, default_max_concurrent: cap });
      setStatus(s.assignment === 'auto' ? 'Waiting conversations now go to the least busy online agent.' : 'Agents pick conversations themselves.');
      onSaved();
    } catch (err) {
      setStatus(message(err));
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Assignment">
      <h2>Assignment</h2>
      <fieldset disabled={!loaded}>
        <label>
          Mode
          <select aria-label="Assignment mode" value={mode} onChange={(e) => setMode(e.target.value)}>
            <option value="manual">Manual: agents pick</option>
            <option value="auto">Automatic: fewest open first</option>
          </select>
        </label>
        <label>
          Default most conversations per agent <input type="number" min={1} max={100} value={cap} onChange={(e) => setCap(Number(e.target.value))} required />
        </label>
        <button type="submit">Save assignment</button>
      </fieldset>
      {status && <p role="status">{status}</p>}
    </form>
  );
}
