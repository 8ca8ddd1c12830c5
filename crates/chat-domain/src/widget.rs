//! What the widget shows, decided on the server: its look and words, the
//! pre-chat form, the business hours (in the tenant's time zone, across
//! daylight-saving changes) and the satisfaction rating.
//!
//! The settings are stored as JSON; `from_json` is the one validation of
//! what an admin sends, `to_json` what is stored and shown.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{Value, json};

use crate::{Timestamp, ValidationError, tenant::TimeZone};

fn err(field: &'static str, why: impl Into<String>) -> ValidationError {
    ValidationError::new(field, why)
}

fn text(
    v: &Value,
    key: &str,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.trim().to_owned())),
        Some(Value::String(_)) => Err(err(field, format!("must be at most {max} characters"))),
        Some(_) => Err(err(field, "must be a string")),
    }
}

/// Off, optional or required: a field of the pre-chat form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    Off,
    Optional,
    Required,
}

impl Ask {
    pub fn as_str(self) -> &'static str {
        match self {
            Ask::Off => "off",
            Ask::Optional => "optional",
            Ask::Required => "required",
        }
    }

    fn parse(
        v: Option<&Value>,
        field: &'static str,
        default: Ask,
    ) -> Result<Self, ValidationError> {
        match v.and_then(Value::as_str) {
            None if v.is_none_or(Value::is_null) => Ok(default),
            Some("off") => Ok(Ask::Off),
            Some("optional") => Ok(Ask::Optional),
            Some("required") => Ok(Ask::Required),
            _ => Err(err(field, "must be 'off', 'optional' or 'required'")),
        }
    }
}

/// A custom question of the pre-chat form, stored as a customer attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrechatField {
    /// The attribute it is stored under: 1–32 of `a-z 0-9 _`.
    pub key: String,
    pub label: String,
    pub required: bool,
    /// Empty for free text; otherwise the answer must be one of these.
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prechat {
    pub name: Ask,
    pub email: Ask,
    /// The email is required whenever the team is offline (default on).
    pub email_when_offline: bool,
    pub fields: Vec<PrechatField>,
}

impl Default for Prechat {
    fn default() -> Self {
        Self {
            name: Ask::Optional,
            email: Ask::Optional,
            email_when_offline: true,
            fields: Vec::new(),
        }
    }
}

pub const MAX_PRECHAT_FIELDS: usize = 5;

impl Prechat {
    fn from_json(v: &Value) -> Result<Self, ValidationError> {
        let d = Self::default();
        let mut fields = Vec::new();
        if let Some(list) = v.get("fields").filter(|f| !f.is_null()) {
            let list = list
                .as_array()
                .ok_or_else(|| err("prechat.fields", "must be a list"))?;
            if list.len() > MAX_PRECHAT_FIELDS {
                return Err(err(
                    "prechat.fields",
                    format!("at most {MAX_PRECHAT_FIELDS}"),
                ));
            }
            for f in list {
                let key = text(f, "key", "prechat.fields.key", 32)?.unwrap_or_default();
                if key.is_empty()
                    || !key
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                {
                    return Err(err(
                        "prechat.fields.key",
                        "must be 1 to 32 of a-z, 0-9 and _",
                    ));
                }
                let label = text(f, "label", "prechat.fields.label", 100)?.unwrap_or_default();
                if label.is_empty() {
                    return Err(err("prechat.fields.label", "must not be empty"));
                }
                let choices = match f.get("choices") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(c)) if c.len() <= 20 => c
                        .iter()
                        .map(|x| {
                            x.as_str()
                                .map(str::to_owned)
                                .filter(|s| !s.is_empty() && s.len() <= 100)
                        })
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| {
                            err("prechat.fields.choices", "must be up to 20 short strings")
                        })?,
                    Some(_) => {
                        return Err(err(
                            "prechat.fields.choices",
                            "must be up to 20 short strings",
                        ));
                    }
                };
                fields.push(PrechatField {
                    key,
                    label,
                    required: f.get("required").and_then(Value::as_bool).unwrap_or(false),
                    choices,
                });
            }
        }
        Ok(Self {
            name: Ask::parse(v.get("name"), "prechat.name", d.name)?,
            email: Ask::parse(v.get("email"), "prechat.email", d.email)?,
            email_when_offline: v
                .get("email_when_offline")
                .and_then(Value::as_bool)
                .unwrap_or(d.email_when_offline),
            fields,
        })
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name.as_str(),
            "email": self.email.as_str(),
            "email_when_offline": self.email_when_offline,
            "fields": self.fields.iter().map(|f| json!({
                "key": f.key, "label": f.label, "required": f.required, "choices": f.choices,
            })).collect::<Vec<_>>(),
        })
    }

    /// Checks a new conversation's customer against the form: required
    /// name and email present (email also when `offline` and the form says
    /// so), custom answers present when required and among the choices.
    pub fn check(
        &self,
        name: Option<&str>,
        email: Option<&str>,
        attributes: &Value,
        offline: bool,
    ) -> Result<(), ValidationError> {
        let given = |s: Option<&str>| s.is_some_and(|s| !s.trim().is_empty());
        if self.name == Ask::Required && !given(name) {
            return Err(err("customer.name", "is required"));
        }
        let email_required = self.email == Ask::Required || (offline && self.email_when_offline);
        if email_required && !given(email) {
            return Err(err("customer.email", "is required"));
        }
        for f in &self.fields {
            match attributes.get(&f.key) {
                None | Some(Value::Null) if f.required => {
                    return Err(err("customer.attributes", format!("{} is required", f.key)));
                }
                Some(Value::String(s)) if !f.choices.is_empty() && !f.choices.contains(s) => {
                    return Err(err(
                        "customer.attributes",
                        format!("{} must be one of its choices", f.key),
                    ));
                }
                Some(Value::String(s)) if f.required && s.trim().is_empty() => {
                    return Err(err("customer.attributes", format!("{} is required", f.key)));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// How the widget looks and what it says; `None` leaves the widget's own
/// default (or the snippet's option).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetSettings {
    pub title: Option<String>,
    pub greeting: Option<String>,
    pub primary_color: Option<crate::Color>,
    /// `bottom-right` or `bottom-left`.
    pub position: Option<String>,
    pub locale: Option<String>,
    /// "We usually reply within a few minutes".
    pub expected_reply: Option<String>,
    pub offline_message: Option<String>,
    /// Ask for a rating when a conversation closes.
    pub csat: bool,
    pub prechat: Prechat,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        Self {
            title: None,
            greeting: None,
            primary_color: None,
            position: None,
            locale: None,
            expected_reply: None,
            offline_message: None,
            csat: true,
            prechat: Prechat::default(),
        }
    }
}

impl WidgetSettings {
    pub fn from_json(v: &Value) -> Result<Self, ValidationError> {
        if !v.is_object() {
            return Err(err("widget", "must be an object"));
        }
        let position = text(v, "position", "position", 16)?;
        if position
            .as_deref()
            .is_some_and(|p| p != "bottom-right" && p != "bottom-left")
        {
            return Err(err("position", "must be 'bottom-right' or 'bottom-left'"));
        }
        let locale = text(v, "locale", "locale", 35)?;
        if locale.as_deref().is_some_and(|l| {
            l.is_empty() || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }) {
            return Err(err("locale", "must be a language tag such as en or de-AT"));
        }
        let empty_none = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(Self {
            title: empty_none(text(v, "name", "name", 100)?),
            greeting: empty_none(text(v, "greeting", "greeting", 500)?),
            primary_color: empty_none(text(v, "primary_color", "primary_color", 7)?)
                .map(|c| {
                    crate::Color::parse(&c).map_err(|_| err("primary_color", "must be #rrggbb"))
                })
                .transpose()?,
            position,
            locale,
            expected_reply: empty_none(text(v, "expected_reply", "expected_reply", 200)?),
            offline_message: empty_none(text(v, "offline_message", "offline_message", 500)?),
            csat: v.get("csat").and_then(Value::as_bool).unwrap_or(true),
            prechat: match v.get("prechat") {
                None | Some(Value::Null) => Prechat::default(),
                Some(p) if p.is_object() => Prechat::from_json(p)?,
                Some(_) => return Err(err("prechat", "must be an object")),
            },
        })
    }

    pub fn to_json(&self) -> Value {
        json!({
            "name": self.title, "greeting": self.greeting,
            "primary_color": self.primary_color.as_ref().map(|c| c.as_str().to_owned()),
            "position": self.position, "locale": self.locale,
            "expected_reply": self.expected_reply, "offline_message": self.offline_message,
            "csat": self.csat, "prechat": self.prechat.to_json(),
        })
    }
}

/// An opening interval of one day, in local wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

/// A date with its own hours (none: closed all day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub date: NaiveDate,
    pub intervals: Vec<Interval>,
}

pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// When the team works. Off: always open.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BusinessHours {
    pub enabled: bool,
    /// Monday first.
    pub weekly: [Vec<Interval>; 7],
    pub exceptions: Vec<Exception>,
}

fn intervals(v: &Value, field: &'static str) -> Result<Vec<Interval>, ValidationError> {
    let list = v
        .as_array()
        .ok_or_else(|| err(field, "must be a list of {\"open\",\"close\"}"))?;
    if list.len() > 6 {
        return Err(err(field, "at most 6 intervals a day"));
    }
    let time = |x: Option<&Value>| {
        x.and_then(Value::as_str)
            .and_then(|s| NaiveTime::parse_from_str(s, "%H:%M").ok())
            .ok_or_else(|| err(field, "times are HH:MM"))
    };
    let mut out: Vec<Interval> = list
        .iter()
        .map(|i| {
            Ok(Interval {
                open: time(i.get("open"))?,
                close: time(i.get("close"))?,
            })
        })
        .collect::<Result<_, ValidationError>>()?;
    if out.iter().any(|i| i.close <= i.open) {
        return Err(err(field, "each interval closes after it opens"));
    }
    out.sort_by_key(|i| i.open);
    if out.windows(2).any(|w| w[1].open < w[0].close) {
        return Err(err(field, "intervals must not overlap"));
    }
    Ok(out)
}

fn intervals_json(list: &[Interval]) -> Value {
    Value::Array(
        list.iter()
            .map(|i| json!({ "open": i.open.format("%H:%M").to_string(), "close": i.close.format("%H:%M").to_string() }))
            .collect(),
    )
}

impl BusinessHours {
    pub fn from_json(v: &Value) -> Result<Self, ValidationError> {
        if !v.is_object() {
            return Err(err("business_hours", "must be an object"));
        }
        let mut weekly: [Vec<Interval>; 7] = Default::default();
        if let Some(w) = v.get("weekly").filter(|w| !w.is_null()) {
            let w = w
                .as_object()
                .ok_or_else(|| err("weekly", "must map mon…sun to intervals"))?;
            for (k, list) in w {
                let day = DAYS
                    .iter()
                    .position(|d| d == k)
                    .ok_or_else(|| err("weekly", "days are mon, tue, wed, thu, fri, sat, sun"))?;
                weekly[day] = intervals(list, "weekly")?;
            }
        }
        let mut exceptions = Vec::new();
        if let Some(list) = v.get("exceptions").filter(|x| !x.is_null()) {
            let list = list
                .as_array()
                .ok_or_else(|| err("exceptions", "must be a list"))?;
            if list.len() > 366 {
                return Err(err("exceptions", "at most 366"));
            }
            for x in list {
                let date = x
                    .get("date")
                    .and_then(Value::as_str)
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .ok_or_else(|| err("exceptions", "dates are YYYY-MM-DD"))?;
                let hours = match x.get("intervals") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(i) => intervals(i, "exceptions")?,
                };
                exceptions.push(Exception {
                    date,
                    intervals: hours,
                });
            }
        }
        Ok(Self {
            enabled: v.get("enabled").and_then(Value::as_bool).unwrap_or(true),
            weekly,
            exceptions,
        })
    }

    pub fn to_json(&self) -> Value {
        let weekly: serde_json::Map<String, Value> = DAYS
            .iter()
            .zip(&self.weekly)
            .map(|(d, i)| ((*d).to_owned(), intervals_json(i)))
            .collect();
        json!({
            "enabled": self.enabled,
            "weekly": weekly,
            "exceptions": self.exceptions.iter().map(|x| json!({
                "date": x.date.format("%Y-%m-%d").to_string(), "intervals": intervals_json(&x.intervals),
            })).collect::<Vec<_>>(),
        })
    }

    /// The hours of a local date: its exception, else its weekday's.
    pub(crate) fn hours_of(&self, date: NaiveDate) -> &[Interval] {
        self.exceptions
            .iter()
            .find(|x| x.date == date)
            .map(|x| x.intervals.as_slice())
            .unwrap_or(&self.weekly[date.weekday().num_days_from_monday() as usize])
    }

    /// Whether the team works at `at`, judged by the local wall clock.
    pub fn is_open(&self, zone: TimeZone, at: Timestamp) -> bool {
        if !self.enabled {
            return true;
        }
        let local = at.with_timezone(&zone.tz()).naive_local();
        self.hours_of(local.date())
            .iter()
            .any(|i| i.open <= local.time() && local.time() < i.close)
    }

    /// The next opening after `at` within two weeks (`None`: open now or
    /// never in that time). A local opening time that does not exist (the
    /// hour skipped when clocks go forward) counts from the hour after.
    pub fn next_open(&self, zone: TimeZone, at: Timestamp) -> Option<Timestamp> {
        if self.is_open(zone, at) {
            return None;
        }
        let tz = zone.tz();
        let today = at.with_timezone(&tz).date_naive();
        for d in 0..15 {
            let date = today + chrono::Duration::days(d);
            for i in self.hours_of(date) {
                let utc = zone.instant(NaiveDateTime::new(date, i.open));
                if utc > at {
                    return Some(utc);
                }
            }
        }
        None
    }
}

/// A customer's rating of a closed conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    /// 1 to 5.
    pub score: u8,
    pub comment: Option<String>,
    pub rated_at: Timestamp,
}

/// A score of 1 to 5 and an optional comment of at most 1,000 characters.
pub fn parse_rating(
    score: i64,
    comment: Option<&str>,
) -> Result<(u8, Option<String>), ValidationError> {
    if !(1..=5).contains(&score) {
        return Err(err("score", "must be 1 to 5"));
    }
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > 1000) {
        return Err(err("comment", "must be at most 1000 characters"));
    }
    Ok((score as u8, comment.map(str::to_owned)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin_nine_to_five() -> BusinessHours {
        let day = json!([{ "open": "09:00", "close": "17:00" }]);
        BusinessHours::from_json(&json!({
            "weekly": { "mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day },
            "exceptions": [{ "date": "2026-12-24", "intervals": [{ "open": "09:00", "close": "12:00" }] }, { "date": "2026-12-25" }],
        }))
        .expect("valid hours")
    }

    fn utc(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .with_timezone(&chrono::Utc)
    }

    #[test]
    fn opening_follows_the_local_clock_across_the_spring_change() {
        let h = berlin_nine_to_five();
        let berlin = TimeZone::parse("Europe/Berlin").expect("zone");
        // Saturday 28 March 2026, CET (UTC+1): 08:30 UTC is 09:30 local.
        assert!(h.is_open(berlin, utc("2026-03-28T08:30:00Z")));
        assert!(
            !h.is_open(berlin, utc("2026-03-28T16:30:00Z")),
            "17:30 local"
        );
        // Sunday 29 March, CEST (UTC+2) from 02:00: 07:30 UTC is 09:30.
        assert!(h.is_open(berlin, utc("2026-03-29T07:30:00Z")));
        assert!(
            !h.is_open(berlin, utc("2026-03-29T15:30:00Z")),
            "17:30 local"
        );
        // Closed Saturday evening: next opening is 09:00 CEST = 07:00 UTC.
        assert_eq!(
            h.next_open(berlin, utc("2026-03-28T16:30:00Z")),
            Some(utc("2026-03-29T07:00:00Z"))
        );
        // And in autumn back to CET: Sunday 25 October, 09:00 = 08:00 UTC.
        assert_eq!(
            h.next_open(berlin, utc("2026-10-24T20:00:00Z")),
            Some(utc("2026-10-25T08:00:00Z"))
        );
    }

    #[test]
    fn dated_exceptions_replace_the_weekday() {
        let h = berlin_nine_to_five();
        let berlin = TimeZone::parse("Europe/Berlin").expect("zone");
        assert!(
            !h.is_open(berlin, utc("2026-12-24T12:30:00Z")),
            "13:30 on the 24th: closed at noon"
        );
        assert!(
            !h.is_open(berlin, utc("2026-12-25T10:00:00Z")),
            "closed all day"
        );
        assert_eq!(
            h.next_open(berlin, utc("2026-12-24T12:30:00Z")),
            Some(utc("2026-12-26T08:00:00Z"))
        );
        let off = BusinessHours::default();
        assert!(
            off.is_open(berlin, utc("2026-12-25T03:00:00Z")),
            "no hours set: always open"
        );
    }

    #[test]
    fn bad_hours_and_settings_are_refused() {
        for bad in [
            json!({ "weekly": { "mon": [{ "open": "17:00", "close": "09:00" }] } }),
            json!({ "weekly": { "mon": [{ "open": "9", "close": "10:00" }] } }),
            json!({ "weekly": { "funday": [] } }),
            json!({ "weekly": { "mon": [{ "open": "09:00", "close": "12:00" }, { "open": "11:00", "close": "13:00" }] } }),
            json!({ "exceptions": [{ "date": "24.12.2026" }] }),
        ] {
            assert!(BusinessHours::from_json(&bad).is_err(), "{bad}");
        }
        assert!(WidgetSettings::from_json(&json!({ "primary_color": "red" })).is_err());
        assert!(WidgetSettings::from_json(&json!({ "position": "top" })).is_err());
        assert!(WidgetSettings::from_json(&json!({ "prechat": { "email": "maybe" } })).is_err());
        assert!(parse_rating(6, None).is_err() && parse_rating(0, None).is_err());
        assert_eq!(
            parse_rating(5, Some("  great ")),
            Ok((5, Some("great".into())))
        );
    }

    #[test]
    fn the_prechat_form_is_checked_like_the_api() {
        let form = Prechat::from_json(&json!({
            "name": "required", "email": "optional",
            "fields": [{ "key": "order", "label": "Order number", "required": true }, { "key": "topic", "label": "Topic", "choices": ["billing", "shipping"] }],
        }))
        .expect("valid form");
        let attrs = json!({ "order": "A-1", "topic": "billing" });
        assert!(form.check(Some("Ada"), None, &attrs, false).is_ok());
        assert!(
            form.check(None, None, &attrs, false).is_err(),
            "name required"
        );
        assert!(
            form.check(Some("Ada"), None, &attrs, true).is_err(),
            "email when offline"
        );
        assert!(
            form.check(Some("Ada"), None, &json!({ "topic": "billing" }), false)
                .is_err()
        );
        assert!(
            form.check(
                Some("Ada"),
                None,
                &json!({ "order": "A-1", "topic": "x" }),
                false
            )
            .is_err()
        );
    }
}
