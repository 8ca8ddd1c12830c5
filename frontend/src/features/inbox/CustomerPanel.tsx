import type { AttachmentView, Session } from '../../api/wire';
import { describeUserAgent } from './ua';

export function CustomerPanel({ session, history, files }: { session: Session | null; history: Session[]; files: AttachmentView[] }) {
  if (!session) return <aside className="customer" aria-label="Customer" />;
  const { browser, os } = describeUserAgent(session.context.user_agent);
  const rows: [string, string | null][] = [
    ['Name', session.customer.name],
    ['Email', session.customer.email],
    ['Page', session.context.page_url],
    ['Referrer', session.context.referrer],
    ['Browser', browser],
    ['OS', os],
    ['Locale', session.context.locale],
    ['Started', new Date(session.created_at).toLocaleString()],
  ];
  return (
    <aside className="customer" aria-label="Customer">
      <h2>Customer</h2>
      <dl>
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v ?? '—'}</dd>
          </div>
        ))}
      </dl>
      <h3>Files</h3>
      {files.length === 0 ? <p className="muted">None</p> : (
        <ul className="files-list" aria-label="Files in this conversation">
          {files.map((f) => (
            <li key={f.id}>
              <a href={f.url} download={f.name} target="_blank" rel="noopener noreferrer">{f.name}</a>
            </li>
          ))}
        </ul>
      )}
      <h3>Earlier conversations</h3>
      {history.length === 0 ? <p className="muted">None</p> : (
        <ul className="history">
          {history.map((h) => (
            <li key={h.id}>{new Date(h.created_at).toLocaleDateString()}: {h.last_message_preview ?? 'no messages'} ({h.status})</li>
          ))}
        </ul>
      )}
    </aside>
  );
}
