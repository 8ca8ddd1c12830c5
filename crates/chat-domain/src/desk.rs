//! The agents' daily tools: canned replies, labels and private notes with
//! mentions.

use crate::{Agent, AgentId, SessionId, TenantId, Timestamp, ValidationError};

/// A canned reply's shortcut: 1 to 32 of `a-z 0-9 - _`, unique in a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcut(String);

impl Shortcut {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = (1..=32).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            return Err(ValidationError::new(
                "shortcut",
                "must be 1 to 32 of a-z, 0-9, '-' and '_'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedReply {
    pub id: String,
    pub tenant_id: TenantId,
    pub shortcut: Shortcut,
    pub title: String,
    pub body: String,
    pub updated_at: Timestamp,
}

/// What an admin writes: checked, title 1–100 and body 1–4,000 characters.
#[derive(Debug, Clone)]
pub struct CannedInput {
    pub shortcut: Shortcut,
    pub title: String,
    pub body: String,
}

impl CannedInput {
    pub fn parse(shortcut: &str, title: &str, body: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            shortcut: Shortcut::parse(shortcut.trim())?,
            title: bounded("title", title, 100)?,
            body: bounded("body", body, crate::MessageBody::MAX_CHARS)?,
        })
    }
}

fn bounded(field: &'static str, raw: &str, max: usize) -> Result<String, ValidationError> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(s.to_owned())
}

/// A label's name: 1 to 32 of lowercase letters, digits, `-` and `_`
/// (what `?label=` filters by), unique in a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelName(String);

impl LabelName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let ok = (1..=32).contains(&raw.chars().count())
            && raw
                .chars()
                .all(|c| (c.is_alphanumeric() && !c.is_uppercase()) || c == '-' || c == '_');
        if !ok {
            return Err(ValidationError::new(
                "labels",
                "a label is 1 to 32 lowercase letters, digits, '-' or '_'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `#rrggbb`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Color(String);

impl Color {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let ok = raw.len() == 7
            && raw.starts_with('#')
            && raw[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(ValidationError::new("color", "must look like #1a2b3c"));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub id: String,
    pub tenant_id: TenantId,
    pub name: LabelName,
    pub color: Color,
    pub created_at: Timestamp,
}

/// A session may carry at most this many labels.
pub const MAX_LABELS: usize = 20;

/// A private note: stored beside the thread, never in its `seq`; placed
/// after the message `after_seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: String,
    pub tenant_id: TenantId,
    pub session_id: SessionId,
    pub after_seq: i64,
    pub author_id: AgentId,
    pub author_name: String,
    pub body: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewNote {
    pub author_id: AgentId,
    pub author_name: String,
    pub body: crate::MessageBody,
}

/// The agents a note mentions: `@` and an agent's full name, or the first
/// word of it when no other agent's name starts with that word; case does
/// not matter. The author is never mentioned.
pub fn mentioned<'a>(body: &str, agents: &'a [Agent], author: &AgentId) -> Vec<&'a Agent> {
    let text = body.to_lowercase();
    let at_word = |word: &str| {
        let needle = format!("@{word}");
        text.match_indices(&needle).any(|(i, _)| {
            text[i + needle.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
        })
    };
    let first = |a: &Agent| {
        a.name
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_lowercase()
    };
    agents
        .iter()
        .filter(|a| a.active && &a.id != author)
        .filter(|a| {
            let name = a.name.to_lowercase();
            let f = first(a);
            at_word(&name)
                || (!f.is_empty()
                    && agents.iter().filter(|b| first(b) == f).count() == 1
                    && at_word(&f))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Email, Role};

    fn agent(id: &str, name: &str) -> Agent {
        Agent {
            id: AgentId::new(id),
            tenant_id: TenantId::new("t"),
            name: name.into(),
            email: Email::parse(&format!("{id}@x.test")).expect("Email::parse"),
            role: Role::Agent,
            active: true,
            created_at: chrono::Utc::now(),
            status: crate::AgentStatus::Online,
            max_concurrent: None,
            last_assigned_at: None,
        }
    }

    #[test]
    fn shortcuts_and_labels_are_plain_words() {
        assert!(Shortcut::parse("refund-2_x").is_ok());
        for bad in ["", "Refund", "a b", &"x".repeat(33), "ü"] {
            assert!(Shortcut::parse(bad).is_err(), "{bad:?}");
        }
        assert!(LabelName::parse("vip").is_ok());
        assert!(LabelName::parse("VIP").is_err());
        assert!(Color::parse("#A1b2C3").map(|c| c.0) == Ok("#a1b2c3".into()));
        assert!(Color::parse("red").is_err());
    }

    #[test]
    fn mentions_match_full_names_and_unambiguous_first_names() {
        let agents = [
            agent("a", "Alex Kim"),
            agent("b", "Bea Lu"),
            agent("c", "Bea Stone"),
            agent("d", "Dan"),
        ];
        let ids = |body: &str| {
            mentioned(body, &agents, &AgentId::new("d"))
                .iter()
                .map(|a| a.id.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("ping @alex please"), vec!["a"]);
        assert_eq!(ids("@Bea Stone and @bea"), vec!["c"]);
        assert_eq!(ids("@alexander is not alex"), Vec::<String>::new());
        assert_eq!(ids("@Dan myself"), Vec::<String>::new());
        assert_eq!(ids("mail alex@example.com"), Vec::<String>::new());
    }
}
