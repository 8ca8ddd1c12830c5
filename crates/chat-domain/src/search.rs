//! Full-text search of messages: the query a person types, parsed into
//! plain terms every database's full-text syntax can be written from, and
//! the highlighted snippet of a hit.
//!
//! A term is a run of letters and digits, lowercased: whatever else the
//! query holds (quotes aside) separates terms and is never passed on, so
//! no character of the query can act as an operator or a wildcard of a
//! database's syntax.

use crate::{AssigneeFilter, ChatSession, Message, SessionStatus, Timestamp, ValidationError};

/// A searched word, or a phrase of words that must follow each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchTerm {
    /// `prefix`: the word was written `refun*` and matches `refund`,
    /// `refunds` …
    Word {
        word: String,
        prefix: bool,
    },
    Phrase(Vec<String>),
}

impl SearchTerm {
    /// The words it is made of.
    pub fn words(&self) -> Vec<&str> {
        match self {
            SearchTerm::Word { word, .. } => vec![word.as_str()],
            SearchTerm::Phrase(words) => words.iter().map(String::as_str).collect(),
        }
    }
}

/// Every term must match (AND).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<SearchTerm>,
}

impl SearchQuery {
    pub const MAX_CHARS: usize = 200;
    pub const MAX_TERMS: usize = 8;

    /// Words, `prefix*` words and `"quoted phrases"`. A query with no word
    /// in it (only punctuation) parses to no terms: it matches nothing.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ValidationError::new("q", "must not be empty"));
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "q",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        let mut terms = Vec::new();
        for (i, part) in raw.split('"').enumerate() {
            if i % 2 == 1 {
                let words = words(part);
                match words.len() {
                    0 => {}
                    1 => terms.push(SearchTerm::Word {
                        word: words.into_iter().next().unwrap_or_default(),
                        prefix: false,
                    }),
                    _ => terms.push(SearchTerm::Phrase(words)),
                }
                continue;
            }
            for chunk in part.split_whitespace() {
                let prefix = chunk.ends_with('*');
                let words = words(chunk);
                let last = words.len().saturating_sub(1);
                for (j, word) in words.into_iter().enumerate() {
                    terms.push(SearchTerm::Word {
                        word,
                        prefix: prefix && j == last,
                    });
                }
            }
        }
        terms.dedup();
        terms.truncate(Self::MAX_TERMS);
        Ok(Self { terms })
    }

    pub fn terms(&self) -> &[SearchTerm] {
        &self.terms
    }

    /// Whether nothing searchable was left: such a query matches nothing.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// The searchable words of a text: runs of letters and digits,
/// lowercased, as the databases' tokenizers split it.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().chars().take(64).collect())
        .collect()
}

/// What `GET /search/messages` asks for.
#[derive(Debug, Clone)]
pub struct MessageSearch {
    pub query: SearchQuery,
    pub status: Option<SessionStatus>,
    pub assignee: AssigneeFilter,
    pub agent_id: Option<crate::AgentId>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub limit: u64,
    /// Where the previous page ended.
    pub cursor: Option<SearchCursor>,
}

/// Where a page of hits ended, for the next page: the store's sort key of
/// the last hit (its insertion order or its time) and its id. Opaque to
/// clients, written `key.id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCursor {
    pub key: i64,
    pub id: String,
}

impl SearchCursor {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let err = || ValidationError::new("cursor", "is not a cursor this server gave");
        let (key, id) = raw.split_once('.').ok_or_else(err)?;
        let key = key.parse::<i64>().map_err(|_| err())?;
        let id_ok =
            (1..=36).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if !id_ok {
            return Err(err());
        }
        Ok(Self {
            key,
            id: id.to_owned(),
        })
    }

    pub fn encode(&self) -> String {
        format!("{}.{}", self.key, self.id)
    }
}

/// One matching message with its session.
#[derive(Debug, Clone)]
pub struct MessageHit {
    pub message: Message,
    pub session: ChatSession,
}

/// A page of hits, newest first.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    pub hits: Vec<MessageHit>,
    pub next_cursor: Option<SearchCursor>,
}

/// About this many characters of the body around the first match.
const SNIPPET_CHARS: usize = 160;

/// The part of `body` around the first matching word, HTML-escaped, with
/// every matching word wrapped in `<mark>…</mark>` and `…` where it was
/// cut.
pub fn snippet(body: &str, query: &SearchQuery) -> String {
    let chars: Vec<char> = body.chars().collect();
    // Words of the body as (start, end) char ranges.
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in chars.iter().enumerate() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, chars.len()));
    }
    let matches = |word: &str| {
        query.terms.iter().any(|t| match t {
            SearchTerm::Word { word: w, prefix } => {
                if *prefix {
                    word.starts_with(w.as_str())
                } else {
                    word == w
                }
            }
            SearchTerm::Phrase(ws) => ws.iter().any(|w| w == word),
        })
    };
    let marked: Vec<(usize, usize)> = spans
        .into_iter()
        .filter(|&(s, e)| matches(&chars[s..e].iter().collect::<String>().to_lowercase()))
        .collect();
    let first = marked.first().map_or(0, |&(s, _)| s);
    let from = first.saturating_sub(SNIPPET_CHARS / 3);
    let to = (from + SNIPPET_CHARS).min(chars.len());
    let from = to.saturating_sub(SNIPPET_CHARS).min(from);
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut i = from;
    for &(s, e) in marked.iter().filter(|&&(s, e)| s >= from && e <= to) {
        escape_into(&mut out, &chars[i..s]);
        out.push_str("<mark>");
        escape_into(&mut out, &chars[s..e]);
        out.push_str("</mark>");
        i = e;
    }
    escape_into(&mut out, &chars[i..to]);
    if to < chars.len() {
        out.push('…');
    }
    out
}

/// `s` with `& < > " '` written as HTML entities.
pub fn escape_html(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, &chars);
    out
}

fn escape_into(out: &mut String, chars: &[char]) {
    for &c in chars {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str) -> SearchQuery {
        SearchQuery::parse(raw).expect("SearchQuery::parse")
    }

    #[test]
    fn words_prefixes_and_phrases_are_told_apart() {
        assert_eq!(
            q(r#"Refun* "late  delivery" Kettle"#).terms(),
            &[
                SearchTerm::Word {
                    word: "refun".into(),
                    prefix: true
                },
                SearchTerm::Phrase(vec!["late".into(), "delivery".into()]),
                SearchTerm::Word {
                    word: "kettle".into(),
                    prefix: false
                },
            ]
        );
    }

    #[test]
    fn operators_and_wildcards_of_any_syntax_are_only_separators() {
        for raw in [
            "%",
            "_",
            "' OR 1=1 --",
            "NEAR(a b)",
            "a:* | b",
            "+x -y",
            "\\",
        ] {
            let parsed = q(raw);
            for t in parsed.terms() {
                for w in t.words() {
                    assert!(w.chars().all(char::is_alphanumeric), "{raw:?} gave {w:?}");
                }
            }
        }
        assert!(q("%_!").is_empty());
        assert!(SearchQuery::parse("  ").is_err());
        assert!(SearchQuery::parse(&"a".repeat(201)).is_err());
    }

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let c = SearchCursor {
            key: 42,
            id: "0193a0b2-7c1d-7000-8000-000000000001".into(),
        };
        assert_eq!(SearchCursor::parse(&c.encode()), Ok(c));
        for bad in ["", "42", "x.abc", "1.' OR 1=1", "1."] {
            assert!(SearchCursor::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn snippets_mark_matches_and_escape_the_rest() {
        let s = snippet("Where is <b>my</b> refund & invoice?", &q("refun* invoice"));
        assert_eq!(
            s,
            "Where is &lt;b&gt;my&lt;/b&gt; <mark>refund</mark> &amp; <mark>invoice</mark>?"
        );
    }

    #[test]
    fn long_bodies_are_cut_around_the_first_match() {
        let body = format!("{} needle {}", "hay ".repeat(100), "hay ".repeat(100));
        let s = snippet(&body, &q("needle"));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>needle</mark>"), "{s}");
        assert!(s.chars().count() < 200, "{s}");
    }
}
