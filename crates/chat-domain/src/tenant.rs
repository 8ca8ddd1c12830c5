//! Tenants: the organisations that embed the widget. Every other object
//! belongs to exactly one tenant.

use crate::{BotMode, TenantId, Timestamp, ValidationError};

/// The public handle of a tenant, e.g. `demo-tenant`, used by the widget.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantSlug(String);

impl TenantSlug {
    /// Lowercase ASCII letters, digits and inner hyphens, 2 to 64 characters.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !(2..=64).contains(&raw.len()) || !ok_chars || raw.starts_with('-') || raw.ends_with('-')
        {
            return Err(ValidationError::new(
                "tenant_id",
                "must be 2 to 64 lowercase letters, digits or inner hyphens",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An origin a tenant allows the widget to be embedded from, such as
/// `https://shop.example.com` (scheme, host and optional port; no path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin(String);

impl AllowedOrigin {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let err = || {
            ValidationError::new(
                "allowed_origin",
                "must look like https://host[:port] with no path",
            )
        };
        let raw = raw.trim().trim_end_matches('/');
        let rest = raw
            .strip_prefix("https://")
            .or_else(|| raw.strip_prefix("http://"))
            .ok_or_else(err)?;
        let valid = !rest.is_empty()
            && rest.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        if !valid {
            return Err(err());
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: TenantSlug,
    pub name: String,
    pub allowed_origins: Vec<AllowedOrigin>,
    pub bot_mode: BotMode,
    /// The sender name of bot messages, e.g. "Assistant".
    pub bot_name: String,
    /// Where the team works: transcripts give times in it.
    pub time_zone: TimeZone,
    pub created_at: Timestamp,
    pub assignment: crate::AssignmentSettings,
    pub widget: crate::widget::WidgetSettings,
    pub business_hours: crate::widget::BusinessHours,
}

/// An IANA time zone such as `Europe/Berlin` (default `UTC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl Default for TimeZone {
    fn default() -> Self {
        Self(chrono_tz::Tz::UTC)
    }
}

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        raw.trim()
            .parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| ValidationError::new("time_zone", "must be an IANA time zone name"))
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }

    /// A local wall-clock time as an instant: the earlier of two in the hour
    /// repeated when clocks go back; in the hour skipped when they go
    /// forward, the same wall time an hour later.
    pub fn instant(&self, local: chrono::NaiveDateTime) -> Timestamp {
        use chrono::TimeZone as _;
        self.0
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                self.0
                    .from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(|| local.and_utc())
    }

    /// `t` as local time in this zone, e.g. `2026-03-29 03:30:00 CEST`.
    pub fn format(&self, t: &Timestamp, pattern: &str) -> String {
        t.with_timezone(&self.0).format(pattern).to_string()
    }
}

impl Tenant {
    /// Whether a browser page at `origin` may connect to this tenant's chat.
    /// A tenant that lists no origins accepts every origin.
    pub fn allows_origin(&self, origin: &str) -> bool {
        if self.allowed_origins.is_empty() {
            return true;
        }
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        self.allowed_origins.iter().any(|o| o.0 == origin)
    }
}

#[derive(Debug, Clone)]
pub struct NewTenant {
    pub slug: TenantSlug,
    pub name: String,
    pub allowed_origins: Vec<AllowedOrigin>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_slug_parses() {
        assert_eq!(
            TenantSlug::parse("demo-tenant").map(|s| s.0),
            Ok("demo-tenant".to_owned())
        );
    }

    #[test]
    fn slugs_with_uppercase_spaces_or_edge_hyphens_are_rejected() {
        for bad in ["Demo", "a b", "-a", "a-", "x", "a_b"] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn origins_are_normalised_and_matched_case_insensitively() {
        let tenant = Tenant {
            id: TenantId::new("t"),
            slug: TenantSlug::parse("acme").expect("TenantSlug::parse"),
            name: "Acme".into(),
            allowed_origins: vec![
                AllowedOrigin::parse("https://Shop.Example.com/").expect("AllowedOrigin::parse"),
            ],
            bot_mode: BotMode::Off,
            bot_name: "Assistant".into(),
            time_zone: TimeZone::default(),
            created_at: chrono::Utc::now(),
            assignment: crate::AssignmentSettings::default(),
            widget: Default::default(),
            business_hours: Default::default(),
        };
        assert!(tenant.allows_origin("https://shop.example.com"));
        assert!(!tenant.allows_origin("https://evil.example.com"));
    }

    #[test]
    fn times_are_shown_in_the_zone_across_a_daylight_saving_change() {
        let berlin = TimeZone::parse("Europe/Berlin").expect("TimeZone::parse");
        let before = chrono::DateTime::parse_from_rfc3339("2026-03-29T00:30:00Z")
            .expect("rfc3339")
            .with_timezone(&chrono::Utc);
        let after = before + chrono::Duration::hours(1);
        assert_eq!(berlin.format(&before, "%H:%M %Z"), "01:30 CET");
        assert_eq!(berlin.format(&after, "%H:%M %Z"), "03:30 CEST");
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn origins_with_paths_are_rejected() {
        assert!(AllowedOrigin::parse("https://a.example/path").is_err());
        assert!(AllowedOrigin::parse("ftp://a.example").is_err());
    }
}
