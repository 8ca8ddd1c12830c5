import { useMemo, useState } from 'react';
import { Api } from '../api/client';
import type { Agent } from '../api/wire';
import { LoginPage } from '../features/auth/LoginPage';
import { InboxPage } from '../features/inbox/InboxPage';
import { ReportsPage } from '../features/reports/ReportsPage';
import { TeamPage } from '../features/team/TeamPage';

const KEY = 'dashboard.auth';

interface Auth {
  token: string;
  agent: Agent;
}

/** The token lives for the tab (sessionStorage), not the browser. */
function loadAuth(): Auth | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Auth) : null;
  } catch {
    return null;
  }
}

export function App() {
  const [auth, setAuth] = useState<Auth | null>(loadAuth);
  const [view, setView] = useState<'inbox' | 'team' | 'reports'>('inbox');
  const base = useMemo(() => new Api(window.location.origin), []);
  if (!auth) {
    return (
      <LoginPage
        api={base}
        onLogin={(a) => {
          sessionStorage.setItem(KEY, JSON.stringify(a));
          setAuth(a);
        }}
      />
    );
  }
  const signOut = () => {
    sessionStorage.removeItem(KEY);
    setAuth(null);
  };
  const api = base.withToken(auth.token);
  if (view === 'team') return <TeamPage api={api} me={auth.agent} onBack={() => setView('inbox')} />;
  if (view === 'reports') return <ReportsPage api={api} me={auth.agent} onBack={() => setView('inbox')} />;
  return <InboxPage api={api} me={auth.agent} onSignOut={signOut} onTeam={() => setView('team')} onReports={() => setView('reports')} />;
}
