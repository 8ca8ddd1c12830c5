import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, type Api } from '../../api/client';
import type { Article } from '../../api/wire';

/** The knowledge base the bot answers from (admins): drafts first (replies
 * agents turned into articles), each edited and published here. */
export function KnowledgeBase({ api }: { api: Api }) {
  const [articles, setArticles] = useState<Article[]>([]);
  const [editing, setEditing] = useState<Article | 'new' | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const load = useCallback(() => {
    api.articles().then(
      (r) => setArticles([...r.articles].sort((a, b) => Number(b.draft) - Number(a.draft) || a.title.localeCompare(b.title))),
      () => setArticles([]),
    );
  }, [api]);
  useEffect(load, [load]);

  async function save(e: FormEvent<HTMLFormElement>, publish: boolean) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const keywords = String(f.get('keywords') ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    try {
      await api.saveArticle(editing === 'new' || editing === null ? null : editing.id, {
        title: String(f.get('title') ?? ''),
        body: String(f.get('body') ?? ''),
        keywords,
        draft: !publish,
      });
      setStatus(publish ? 'Published.' : 'Saved as a draft.');
      setEditing(null);
      load();
    } catch (err) {
      setStatus(err instanceof ApiError ? err.message : 'Not saved.');
    }
  }

  async function remove(x: Article) {
    if (!window.confirm(`Delete “${x.title}”? The bot stops using it at once.`)) return;
    try {
      await api.deleteArticle(x.id);
      setArticles((list) => list.filter((y) => y.id !== x.id));
      setStatus('Deleted.');
      setEditing(null);
      load();
    } catch (err) {
      setStatus(err instanceof ApiError ? err.message : 'Not deleted.');
    }
  }

  const a = editing === 'new' ? null : editing;
  return (
    <section aria-label="Knowledge base" className="kb">
      <h2>Knowledge base</h2>
      <ul className="articles">
        {articles.map((x) => (
          <li key={x.id} data-article-id={x.id}>
            {x.draft && <span className="chip draft">draft</span>} {x.title}{' '}
            <button type="button" onClick={() => setEditing(x)} aria-label={`Edit ${x.title}`}>
              Edit
            </button>
          </li>
        ))}
      </ul>
      <button type="button" onClick={() => setEditing('new')}>
        New article
      </button>
      {editing && (
        <form
          key={a?.id ?? 'new'}
          aria-label="Article"
          onSubmit={(e) => void save(e, (e.nativeEvent as SubmitEvent).submitter?.getAttribute('value') === 'publish')}
        >
          <label>
            Title <input name="title" defaultValue={a?.title ?? ''} required maxLength={200} />
          </label>
          <label>
            Body <textarea name="body" defaultValue={a?.body ?? ''} required maxLength={20000} rows={6} />
          </label>
          <label>
            Keywords <input name="keywords" defaultValue={a?.keywords.join(', ') ?? ''} placeholder="comma, separated" />
          </label>
          <button type="submit" value="publish">
            Publish
          </button>
          <button type="submit" value="draft">
            Save draft
          </button>
          <button type="button" onClick={() => setEditing(null)}>
            Cancel
          </button>
          {a && (
            <button type="button" className="danger" onClick={() => void remove(a)}>
              Delete
            </button>
          )}
        </form>
      )}
      {status && <p role="status">{status}</p>}
    </section>
  );
}
