// Admins' settings of the agents' tools: canned replies (used with `/` in
// the composer) and the tenant's labels.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, type Api } from '../../api/client';
import type { CannedReply, Label } from '../../api/wire';

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : 'Something went wrong.';
}

export function DeskSettings({ api }: { api: Api }) {
  const [replies, setReplies] = useState<CannedReply[]>([]);
  const [labels, setLabels] = useState<Label[]>([]);
  const [shortcut, setShortcut] = useState('');
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [labelName, setLabelName] = useState('');
  const [color, setColor] = useState('#4f46e5');
  const [status, setStatus] = useState<string | null>(null);

  const load = useCallback(() => {
    api.cannedReplies().then((r) => setReplies(r.canned_replies), (e: unknown) => setStatus(message(e)));
    api.labels().then((r) => setLabels(r.labels), (e: unknown) => setStatus(message(e)));
  }, [api]);
  useEffect(load, [load]);

  const addReply = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api.createCanned({ shortcut, title, body });
      setStatus(`Added /${shortcut}.`);
      setShortcut('');
      setTitle('');
      setBody('');
      load();
    } catch (err) {
      setStatus(message(err));
    }
  };
  const addLabel = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api.createLabel(labelName, color);
      setStatus(`Added label ${labelName}.`);
      setLabelName('');
      load();
    } catch (err) {
      setStatus(message(err));
    }
  };

  return (
    <div className="forms">
      <form onSubmit={(e) => void addReply(e)} aria-label="Canned replies">
        <h2>Canned replies</h2>
        <ul className="history">
          {replies.map((r) => (
            <li key={r.id}>
              <strong>/{r.shortcut}</strong> {r.title}{' '}
              <button type="button" aria-label={`Delete /${r.shortcut}`} onClick={() => void api.deleteCanned(r.id).then(load, (e: unknown) => setStatus(message(e)))}>Delete</button>
            </li>
          ))}
        </ul>
        <label>Shortcut <input value={shortcut} onChange={(e) => setShortcut(e.target.value)} required pattern="[a-z0-9_\-]{1,32}" /></label>
        <label>Title <input value={title} onChange={(e) => setTitle(e.target.value)} required /></label>
        <label>Text ({'{{customer.name}}'}, {'{{customer.email}}'}, {'{{agent.name}}'}) <textarea value={body} onChange={(e) => setBody(e.target.value)} required /></label>
        <button type="submit">Add canned reply</button>
      </form>
      <form onSubmit={(e) => void addLabel(e)} aria-label="Labels">
        <h2>Labels</h2>
        <div className="labels">{labels.map((l) => <span key={l.id} className="chip" style={{ borderColor: l.color }}>{l.name}</span>)}</div>
        <label>Label name <input value={labelName} onChange={(e) => setLabelName(e.target.value)} required /></label>
        <label>Colour <input type="color" value={color} onChange={(e) => setColor(e.target.value)} /></label>
        <button type="submit">Add label</button>
      </form>
      {status && <p role="status">{status}</p>}
    </div>
  );
}
