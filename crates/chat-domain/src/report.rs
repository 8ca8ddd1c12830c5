//! Reports: what a period of conversations adds up to.
//!
//! A period is a run of whole local days in the tenant's time zone. The
//! figures are computed by the database over the stored conversations;
//! what this module decides is which instants a period covers, how an
//! instant maps to its local day when the UTC offset changes inside the
//! period (daylight saving), and how much of a stretch of time fell into
//! the business hours (stored with each conversation when its first
//! answer and its close happen, so a report never recomputes it).

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Offset};

use crate::widget::BusinessHours;
use crate::{AgentId, TimeZone, Timestamp, ValidationError};

/// The longest period one report covers.
pub const MAX_DAYS: i64 = 366;
/// Without `from`, a report covers the last this many days up to `to`.
pub const DEFAULT_DAYS: i64 = 7;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Whole local days `from ..= to` in a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub zone: TimeZone,
}

/// One stretch of a period with a constant UTC offset: from `start`
/// (microseconds since the epoch) on, local time is UTC plus `offset`
/// microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetSpan {
    pub start: i64,
    pub offset: i64,
}

fn date(raw: &str, field: &'static str) -> Result<NaiveDate, ValidationError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| ValidationError::new(field, "must be a date YYYY-MM-DD"))
}

/// Local midnight of `day` (or the first instant after it, where a
/// clock change skips midnight).
fn local_start(zone: TimeZone, day: NaiveDate) -> Timestamp {
    zone.instant(day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

fn offset_at(zone: TimeZone, at: Timestamp) -> i64 {
    i64::from(
        at.with_timezone(&zone.tz())
            .offset()
            .fix()
            .local_minus_utc(),
    ) * 1_000_000
}

impl Period {
    /// `from` and `to` as given (both optional, dates in the tenant's zone,
    /// `to` included); `to` defaults to `today`, `from` to the
    /// [`DEFAULT_DAYS`] ending at `to`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        zone: TimeZone,
        today: NaiveDate,
    ) -> Result<Self, ValidationError> {
        let to = match to.filter(|s| !s.trim().is_empty()) {
            Some(t) => date(t, "to")?,
            None => today,
        };
        let from = match from.filter(|s| !s.trim().is_empty()) {
            Some(f) => date(f, "from")?,
            None => to - Duration::days(DEFAULT_DAYS - 1),
        };
        if from > to {
            return Err(ValidationError::new("from", "must not be after to"));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(ValidationError::new(
                "to",
                format!("a report covers at most {MAX_DAYS} days"),
            ));
        }
        if from.year() < 1970 || to.year() > 9000 {
            return Err(ValidationError::new("from", "out of range"));
        }
        Ok(Self { from, to, zone })
    }

    /// The first instant of the period.
    pub fn start(&self) -> Timestamp {
        local_start(self.zone, self.from)
    }

    /// The first instant after the period.
    pub fn end(&self) -> Timestamp {
        local_start(self.zone, self.to + Duration::days(1))
    }

    /// Every local day of the period, in order.
    pub fn days(&self) -> Vec<NaiveDate> {
        self.from
            .iter_days()
            .take_while(|d| *d <= self.to)
            .collect()
    }

    /// The stretches of constant UTC offset that cover the period, in
    /// order; the first starts at the period's start. A clock change is
    /// found to the second.
    pub fn offsets(&self) -> Vec<OffsetSpan> {
        let (start, end) = (self.start(), self.end());
        let mut spans = vec![OffsetSpan {
            start: start.timestamp_micros(),
            offset: offset_at(self.zone, start),
        }];
        // Offsets change at most a few times a year, never twice within
        // six hours: step through the period and narrow each change down.
        let step = Duration::hours(6);
        let mut at = start;
        while at < end {
            let next = (at + step).min(end);
            let current = spans.last().map(|s| s.offset).unwrap_or_default();
            if offset_at(self.zone, next) != current {
                // Whole seconds: clocks change on one.
                let (mut lo, mut hi) = (at.timestamp(), next.timestamp());
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    let mid_at = chrono::DateTime::from_timestamp(mid, 0).unwrap_or(at);
                    if offset_at(self.zone, mid_at) == current {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                let change = chrono::DateTime::from_timestamp(hi, 0).unwrap_or(next);
                spans.push(OffsetSpan {
                    start: change.timestamp_micros(),
                    offset: offset_at(self.zone, change),
                });
            }
            at = next;
        }
        spans
    }

    /// The local date of a day number, as the database computes it:
    /// (microseconds since the epoch + the offset) / a day's microseconds.
    pub fn date_of_day_number(n: i64) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(719_163 + i32::try_from(n).unwrap_or(0))
            .unwrap_or_default()
    }

    /// The day number of an instant (what [`Self::date_of_day_number`]
    /// reverses), given the offsets of the period.
    pub fn day_number(spans: &[OffsetSpan], micros: i64) -> i64 {
        let offset = spans
            .iter()
            .rev()
            .find(|s| s.start <= micros)
            .or(spans.first())
            .map(|s| s.offset)
            .unwrap_or_default();
        (micros + offset).div_euclid(MICROS_PER_DAY)
    }
}

/// What a report is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub period: Period,
    /// Only the conversations this agent holds.
    pub agent: Option<AgentId>,
}

/// A nearest-rank percentile pair of durations, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Percentiles {
    pub p50: Option<i64>,
    pub p90: Option<i64>,
}

/// The figures of a set of conversations (all of a period, one agent's,
/// one day's).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figures {
    /// Conversations started.
    pub conversations: u64,
    /// Answered by the bot and never handed to a person.
    pub bot_only: u64,
    /// Handed from the bot to a person.
    pub handed_off: u64,
    /// Held by an agent.
    pub assigned: u64,
    /// From the moment the conversation waited for a person (its start,
    /// or the bot's hand-off) to an agent's first message.
    pub first_response: Percentiles,
    pub first_response_business: Percentiles,
    /// From the start to the close (conversations closed now).
    pub resolution: Percentiles,
    pub resolution_business: Percentiles,
    pub rating_average: Option<f64>,
    pub rating_count: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentFigures {
    pub agent_id: AgentId,
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DayFigures {
    pub date: NaiveDate,
    pub figures: Figures,
}

/// A report: the whole period, each agent who held conversations, and
/// every day of the period (days without conversations too).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub period: Period,
    pub totals: Figures,
    pub agents: Vec<AgentFigures>,
    pub days: Vec<DayFigures>,
}

impl BusinessHours {
    /// How much of `from .. to` fell into the business hours, judged on the
    /// local wall clock (all of it when the hours are off).
    pub fn open_within(&self, zone: TimeZone, from: Timestamp, to: Timestamp) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        if !self.enabled {
            return to - from;
        }
        let tz = zone.tz();
        let first = from.with_timezone(&tz).date_naive() - Duration::days(1);
        let last = to.with_timezone(&tz).date_naive() + Duration::days(1);
        let mut total = Duration::zero();
        for day in first.iter_days().take_while(|d| *d <= last) {
            for i in self.hours_of(day) {
                let open = zone.instant(NaiveDateTime::new(day, i.open));
                let close = zone.instant(NaiveDateTime::new(day, i.close));
                let (a, b) = (open.max(from), close.min(to));
                if b > a {
                    total += b - a;
                }
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, Utc};
    use serde_json::json;

    fn berlin() -> TimeZone {
        TimeZone::parse("Europe/Berlin").unwrap()
    }

    fn at(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_period_defaults_to_the_last_week_and_refuses_bad_ranges() {
        let p = Period::parse(None, None, berlin(), d("2026-12-06")).unwrap();
        assert_eq!((p.from, p.to), (d("2026-11-30"), d("2026-12-06")));
        assert_eq!(p.days().len(), 7);
        let p = Period::parse(
            Some("2026-01-01"),
            Some("2026-01-01"),
            berlin(),
            d("2026-12-06"),
        )
        .unwrap();
        assert_eq!(p.start(), at("2025-12-31T23:00:00Z"));
        assert_eq!(p.end(), at("2026-01-01T23:00:00Z"));
        assert_eq!(
            Period::parse(
                Some("2026-02-01"),
                Some("2026-01-01"),
                berlin(),
                d("2026-12-06")
            )
            .unwrap_err()
            .field,
            "from"
        );
        assert!(
            Period::parse(
                Some("2024-12-31"),
                Some("2026-01-01"),
                berlin(),
                d("2026-12-06")
            )
            .is_err()
        );
        assert!(
            Period::parse(
                Some("2025-01-01"),
                Some("2026-01-01"),
                berlin(),
                d("2026-12-06")
            )
            .is_ok()
        );
        assert_eq!(
            Period::parse(Some("yesterday"), None, berlin(), d("2026-12-06"))
                .unwrap_err()
                .field,
            "from"
        );
    }

    #[test]
    fn offsets_change_at_the_clock_change_and_days_follow_the_local_clock() {
        // Spring forward in Berlin: 2026-03-29 01:00 UTC.
        let p = Period::parse(
            Some("2026-03-28"),
            Some("2026-03-30"),
            berlin(),
            d("2026-12-06"),
        )
        .unwrap();
        let spans = p.offsets();
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].offset, 3_600_000_000);
        assert_eq!(
            spans[1].start,
            at("2026-03-29T01:00:00Z").timestamp_micros()
        );
        assert_eq!(spans[1].offset, 7_200_000_000);
        let day = |s: &str| {
            Period::date_of_day_number(Period::day_number(&spans, at(s).timestamp_micros()))
        };
        // 23:30 UTC on the 28th is 00:30 on the 29th in Berlin (winter).
        assert_eq!(day("2026-03-28T23:30:00Z"), d("2026-03-29"));
        assert_eq!(day("2026-03-28T22:59:59Z"), d("2026-03-28"));
        // 22:30 UTC on the 29th is 00:30 on the 30th (summer).
        assert_eq!(day("2026-03-29T22:30:00Z"), d("2026-03-30"));
        assert_eq!(day("2026-03-29T21:59:00Z"), d("2026-03-29"));
        // Autumn: back to winter time on 2026-10-25 01:00 UTC.
        let p = Period::parse(
            Some("2026-10-24"),
            Some("2026-10-26"),
            berlin(),
            d("2026-12-06"),
        )
        .unwrap();
        let spans = p.offsets();
        assert_eq!(spans.len(), 2);
        assert_eq!(
            spans[1].start,
            at("2026-10-25T01:00:00Z").timestamp_micros()
        );
        assert_eq!(p.end(), at("2026-10-26T23:00:00Z"));
        // UTC has one span.
        let p = Period::parse(None, None, TimeZone::default(), d("2026-12-06")).unwrap();
        assert_eq!(p.offsets().len(), 1);
    }

    fn weekdays_9_to_17() -> BusinessHours {
        let mut h = BusinessHours::from_json(&json!({
            "enabled": true,
            "weekly": {
                "mon": [{"open": "09:00", "close": "17:00"}],
                "tue": [{"open": "09:00", "close": "17:00"}],
                "wed": [{"open": "09:00", "close": "17:00"}],
                "thu": [{"open": "09:00", "close": "17:00"}],
                "fri": [{"open": "09:00", "close": "17:00"}],
            },
        }))
        .unwrap();
        h.exceptions.push(crate::widget::Exception {
            date: d("2026-12-24"),
            intervals: vec![crate::widget::Interval {
                open: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                close: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            }],
        });
        h
    }

    #[test]
    fn business_time_counts_only_open_hours() {
        let h = weekdays_9_to_17();
        let z = berlin();
        // Friday 16:00 to Monday 10:00 local (winter, UTC+1): 1 h + 1 h.
        assert_eq!(
            h.open_within(z, at("2026-12-04T15:00:00Z"), at("2026-12-07T09:00:00Z")),
            Duration::hours(2)
        );
        // Inside one opening.
        assert_eq!(
            h.open_within(z, at("2026-12-07T09:00:00Z"), at("2026-12-07T09:20:00Z")),
            Duration::minutes(20)
        );
        // A night: nothing.
        assert_eq!(
            h.open_within(z, at("2026-12-07T20:00:00Z"), at("2026-12-08T07:00:00Z")),
            Duration::zero()
        );
        // Christmas Eve (an exception, 9 to 12) from 8:00 to 18:00.
        assert_eq!(
            h.open_within(z, at("2026-12-24T07:00:00Z"), at("2026-12-24T17:00:00Z")),
            Duration::hours(3)
        );
        // Off: the wall time.
        let off = BusinessHours::default();
        assert_eq!(
            off.open_within(z, at("2026-12-05T00:00:00Z"), at("2026-12-06T00:00:00Z")),
            Duration::days(1)
        );
        assert_eq!(
            h.open_within(z, at("2026-12-06T00:00:00Z"), at("2026-12-05T00:00:00Z")),
            Duration::zero()
        );
    }

    #[test]
    fn business_time_across_the_clock_changes() {
        let mut h = BusinessHours::from_json(&json!({
            "enabled": true,
            "weekly": {"sun": [{"open": "00:00", "close": "23:59"}]},
        }))
        .unwrap();
        h.weekly[6] = vec![crate::widget::Interval {
            open: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
            close: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        }];
        let z = berlin();
        // Sunday 2026-03-29, 00:00-12:00 local has only 11 hours (02:00
        // to 03:00 does not exist).
        assert_eq!(
            h.open_within(z, at("2026-03-28T12:00:00Z"), at("2026-03-30T00:00:00Z")),
            Duration::hours(11)
        );
        // Sunday 2026-10-25, 00:00-12:00 local has 13 hours.
        assert_eq!(
            h.open_within(z, at("2026-10-24T12:00:00Z"), at("2026-10-26T00:00:00Z")),
            Duration::hours(13)
        );
    }
}
