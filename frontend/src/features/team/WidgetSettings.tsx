// The widget as visitors see it (look, words, rating) with a live preview,
// and the business hours in the tenant's time zone.
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, type Api } from '../../api/client';
import type { BusinessHoursResponse, WidgetSettingsResponse } from '../../api/wire';

type Widget = WidgetSettingsResponse['widget'];
type Hours = BusinessHoursResponse['business_hours'];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : 'Something went wrong.';
}

export function WidgetSettings({ api }: { api: Api }) {
  const [w, setW] = useState<Widget | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  useEffect(() => {
    api.widgetSettings().then((r) => setW(r.widget), (e: unknown) => setStatus(message(e)));
  }, [api]);
  if (!w) return null;
  const set = (k: keyof Widget, v: unknown) => setW({ ...w, [k]: v === '' ? null : v });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      setW((await api.setWidgetSettings(w)).widget);
      setStatus('Saved: the widget shows it on its next load.');
    } catch (err) {
      setStatus(message(err));
    }
  };
  const color = w.primary_color ?? '#4f46e5';
  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Widget" className="widget-settings">
      <h2>Widget</h2>
      <label>Title <input value={w.name ?? ''} onChange={(e) => set('name', e.target.value)} /></label>
      <label>Greeting <input value={w.greeting ?? ''} onChange={(e) => set('greeting', e.target.value)} /></label>
      <label>Colour <input type="color" aria-label="Colour" value={color} onChange={(e) => set('primary_color', e.target.value)} /></label>
      <label>
        Position
        <select value={w.position ?? 'bottom-right'} onChange={(e) => set('position', e.target.value)}>
          <option value="bottom-right">bottom right</option>
          <option value="bottom-left">bottom left</option>
        </select>
      </label>
      <label>Expected reply <input value={w.expected_reply ?? ''} onChange={(e) => set('expected_reply', e.target.value)} /></label>
      <label>Offline message <input value={w.offline_message ?? ''} onChange={(e) => set('offline_message', e.target.value)} /></label>
      <label><input type="checkbox" checked={w.csat} onChange={(e) => set('csat', e.target.checked)} /> Ask for a rating after a conversation</label>
      <div className="preview" aria-label="Preview" style={{ ['--c' as string]: color }}>
        <div className="preview-head" style={{ background: color }}>{w.name ?? 'Chat with us'}</div>
        <div className="preview-body">{w.greeting ?? ''}</div>
        <div className="preview-bubble" style={{ background: color, marginLeft: w.position === 'bottom-left' ? 0 : 'auto' }} />
      </div>
      <button type="submit">Save widget</button>
      {status && <p role="status">{status}</p>}
    </form>
  );
}

export function BusinessHoursForm({ api }: { api: Api }) {
  const [h, setH] = useState<Hours | null>(null);
  const [zone, setZone] = useState('UTC');
  const [status, setStatus] = useState<string | null>(null);
  useEffect(() => {
    api.businessHours().then((r) => { setH(r.business_hours); setZone(r.time_zone); }, (e: unknown) => setStatus(message(e)));
  }, [api]);
  if (!h) return null;
  const day = (d: (typeof DAYS)[number]) => h.weekly[d]?.[0];
  const setDay = (d: (typeof DAYS)[number], open: boolean, from = '09:00', to = '17:00') =>
    setH({ ...h, weekly: { ...h.weekly, [d]: open ? [{ open: from, close: to }] : [] } });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await api.setBusinessHours({ ...h, time_zone: zone });
      setH(r.business_hours);
      setStatus(r.open_now ? 'Saved: open now.' : `Saved: closed now${r.next_open ? `, back ${new Date(r.next_open).toLocaleString()}` : ''}.`);
    } catch (err) {
      setStatus(message(err));
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Business hours">
      <h2>Business hours</h2>
      <label><input type="checkbox" checked={h.enabled} onChange={(e) => setH({ ...h, enabled: e.target.checked })} /> Use business hours</label>
      <label>Time zone <input value={zone} onChange={(e) => setZone(e.target.value)} /></label>
      {DAYS.map((d) => {
        const i = day(d);
        return (
          <div key={d} className="day">
            <label><input type="checkbox" checked={!!i} onChange={(e) => setDay(d, e.target.checked)} /> {d}</label>
            {i && (
              <>
                <input type="time" aria-label={`${d} opens`} value={i.open} onChange={(e) => setDay(d, true, e.target.value, i.close)} />
                <input type="time" aria-label={`${d} closes`} value={i.close} onChange={(e) => setDay(d, true, i.open, e.target.value)} />
              </>
            )}
          </div>
        );
      })}
      <button type="submit">Save hours</button>
      {status && <p role="status">{status}</p>}
    </form>
  );
}
