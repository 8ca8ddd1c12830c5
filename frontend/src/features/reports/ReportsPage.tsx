// Reports: a period's conversations, response and resolution times and
// ratings, in all, per day (charts) and per agent; CSV export. Admins may
// pick an agent; agents see their own figures.
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, type Api } from '../../api/client';
import type { Agent, ReportFigures, ReportView } from '../../api/wire';
import { bars, duration, isoDate } from './chart';

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : 'Something went wrong.';
}

function BarChart({ title, points, format }: { title: string; points: Array<{ label: string; value: number | null }>; format: (v: number) => string }) {
  const w = 640;
  const h = 140;
  const drawn = bars(points, w, h);
  const top = Math.max(0, ...drawn.map((b) => b.value));
  return (
    <figure className="chart" aria-label={title}>
      <figcaption>
        {title} <span className="hint">{drawn.length > 0 ? `(highest: ${format(top)})` : '(nothing measured)'}</span>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h + 18}`} role="img" aria-label={title}>
        {drawn.map((b) => (
          <g key={b.label} data-date={b.label} data-value={b.value}>
            <rect x={b.x} y={b.y} width={b.width} height={Math.max(b.height, b.value > 0 ? 1 : 0)}>
              <title>{`${b.label}: ${format(b.value)}`}</title>
            </rect>
          </g>
        ))}
        <text x={0} y={h + 14} className="axis">
          {points[0]?.label}
        </text>
        <text x={w} y={h + 14} textAnchor="end" className="axis">
          {points[points.length - 1]?.label}
        </text>
      </svg>
    </figure>
  );
}

function Cards({ f }: { f: ReportFigures }) {
  const cards: Array<[string, string, string?]> = [
    ['Conversations', String(f.conversations)],
    ['Bot alone', String(f.bot_only)],
    ['Handed off', String(f.handed_off)],
    ['Assigned', String(f.assigned)],
    ['First response p50 / p90', `${duration(f.first_response_p50_secs)} / ${duration(f.first_response_p90_secs)}`, `business hours: ${duration(f.first_response_business_p50_secs)} / ${duration(f.first_response_business_p90_secs)}`],
    ['Resolution p50 / p90', `${duration(f.resolution_p50_secs)} / ${duration(f.resolution_p90_secs)}`, `business hours: ${duration(f.resolution_business_p50_secs)} / ${duration(f.resolution_business_p90_secs)}`],
    ['Rating', f.rating_average === null ? '–' : `${f.rating_average.toFixed(2)} ★`, `${f.rating_count} rated`],
  ];
  return (
    <div className="cards">
      {cards.map(([k, v, sub]) => (
        <div className="card" key={k} data-figure={k}>
          <div className="card-k">{k}</div>
          <div className="card-v">{v}</div>
          {sub && <div className="hint">{sub}</div>}
        </div>
      ))}
    </div>
  );
}

export function ReportsPage({ api, me, onBack }: { api: Api; me: Agent; onBack: () => void }) {
  const isAdmin = me.role === 'admin';
  const today = new Date();
  const [from, setFrom] = useState(isoDate(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 6)));
  const [to, setTo] = useState(isoDate(today));
  const [agentId, setAgentId] = useState('');
  const [agents, setAgents] = useState<Agent[]>([]);
  const [report, setReport] = useState<ReportView | null>(null);
  const [error, setError] = useState<string | null>(null);

  // The figures follow the form when it is applied, not as it is typed.
  const [applied, setApplied] = useState({ from, to, agentId });
  useEffect(() => {
    setError(null);
    api.report({ from: applied.from, to: applied.to, agent_id: applied.agentId || undefined }).then(
      (r) => setReport(r.report),
      (e: unknown) => setError(message(e)),
    );
  }, [api, applied]);
  useEffect(() => {
    if (isAdmin) api.agents().then((r) => setAgents(r.agents), () => setAgents([]));
  }, [api, isAdmin]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setApplied({ from, to, agentId });
  };
  const csv = async () => {
    try {
      const blob = await api.reportCsv({ from, to, agent_id: agentId || undefined });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `report-${from}-${to}.csv`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      setError(message(e));
    }
  };

  return (
    <div className="app">
      <header className="top">
        <h1>Reports</h1>
        <span className="me">{me.name}</span>
        <button type="button" onClick={onBack}>
          Inbox
        </button>
      </header>
      <main className="team reports">
        <form className="report-form" onSubmit={apply}>
          <label>
            From <input type="date" aria-label="From" value={from} onChange={(e) => setFrom(e.target.value)} required />
          </label>
          <label>
            To <input type="date" aria-label="To" value={to} onChange={(e) => setTo(e.target.value)} required />
          </label>
          {isAdmin && (
            <label>
              Agent{' '}
              <select aria-label="Agent" value={agentId} onChange={(e) => setAgentId(e.target.value)}>
                <option value="">Everyone</option>
                {agents.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          <button type="submit">Show</button>
          <button type="button" onClick={() => void csv()}>
            Download CSV
          </button>
          {report && <span className="hint">Times in {report.time_zone}</span>}
        </form>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {report && (
          <>
            <Cards f={report.totals} />
            <div className="charts">
              <BarChart title="Conversations per day" points={report.days.map((d) => ({ label: d.date, value: d.conversations }))} format={String} />
              <BarChart title="First response (p50) per day" points={report.days.map((d) => ({ label: d.date, value: d.first_response_p50_secs }))} format={duration} />
            </div>
            <table aria-label="Per agent">
              <thead>
                <tr>
                  <th>Agent</th>
                  <th>Conversations</th>
                  <th>First response p50</th>
                  <th>Resolution p50</th>
                  <th>Rating</th>
                </tr>
              </thead>
              <tbody>
                {report.agents.map((a) => (
                  <tr key={a.agent_id} data-agent={a.agent_id}>
                    <td>{a.agent_name ?? 'Former agent'}</td>
                    <td className="conversations">{a.conversations}</td>
                    <td>{duration(a.first_response_p50_secs)}</td>
                    <td>{duration(a.resolution_p50_secs)}</td>
                    <td>{a.rating_average === null ? '–' : `${a.rating_average.toFixed(2)} (${a.rating_count})`}</td>
                  </tr>
                ))}
                {report.agents.length === 0 && (
                  <tr>
                    <td colSpan={5} className="muted">
                      No conversations held by agents in this period.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </>
        )}
      </main>
    </div>
  );
}
