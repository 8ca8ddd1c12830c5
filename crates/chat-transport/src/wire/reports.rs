//! Reports on the wire: the JSON summary and its CSV export.
//!
//! Durations are seconds (with milliseconds) and `null` where nothing was
//! measured; dates are local dates of the tenant's time zone.

use std::collections::HashMap;
use std::fmt::Write as _;

use chat_domain::report::{Figures, Percentiles, Report};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQueryParams {
    /// First day (`YYYY-MM-DD` in the tenant's time zone); default: six
    /// days before `to`.
    pub from: Option<String>,
    /// Last day, included; default: today. At most 366 days.
    pub to: Option<String>,
    /// One agent's conversations (agents who are not admins always get
    /// their own).
    pub agent_id: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// The figures of a set of conversations started in the period.
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct ReportFigures {
    /// Conversations started.
    pub conversations: u64,
    /// Answered by the bot and never handed to a person.
    pub bot_only: u64,
    /// Handed from the bot to a person.
    pub handed_off: u64,
    /// Held by an agent.
    pub assigned: u64,
    /// From the moment a conversation waited for a person (its start, or
    /// the bot's hand-off) to an agent's first message: wall time.
    pub first_response_p50_secs: Option<f64>,
    pub first_response_p90_secs: Option<f64>,
    /// The same, counting business hours only.
    pub first_response_business_p50_secs: Option<f64>,
    pub first_response_business_p90_secs: Option<f64>,
    /// From the start to the close, of conversations closed now.
    pub resolution_p50_secs: Option<f64>,
    pub resolution_p90_secs: Option<f64>,
    pub resolution_business_p50_secs: Option<f64>,
    pub resolution_business_p90_secs: Option<f64>,
    /// Satisfaction ratings (1 to 5).
    pub rating_average: Option<f64>,
    pub rating_count: u64,
}

fn secs(micros: Option<i64>) -> Option<f64> {
    micros.map(|m| (m as f64 / 1000.0).round() / 1000.0)
}

fn pair(p: Percentiles) -> (Option<f64>, Option<f64>) {
    (secs(p.p50), secs(p.p90))
}

impl From<&Figures> for ReportFigures {
    fn from(f: &Figures) -> Self {
        let (fr50, fr90) = pair(f.first_response);
        let (frb50, frb90) = pair(f.first_response_business);
        let (rs50, rs90) = pair(f.resolution);
        let (rsb50, rsb90) = pair(f.resolution_business);
        Self {
            conversations: f.conversations,
            bot_only: f.bot_only,
            handed_off: f.handed_off,
            assigned: f.assigned,
            first_response_p50_secs: fr50,
            first_response_p90_secs: fr90,
            first_response_business_p50_secs: frb50,
            first_response_business_p90_secs: frb90,
            resolution_p50_secs: rs50,
            resolution_p90_secs: rs90,
            resolution_business_p50_secs: rsb50,
            resolution_business_p90_secs: rsb90,
            rating_average: f.rating_average.map(|a| (a * 100.0).round() / 100.0),
            rating_count: f.rating_count,
        }
    }
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct AgentReport {
    pub agent_id: String,
    /// `null` for an agent no longer on the team.
    pub agent_name: Option<String>,
    #[serde(flatten)]
    pub figures: ReportFigures,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct DayReport {
    /// `YYYY-MM-DD`, local.
    pub date: String,
    #[serde(flatten)]
    pub figures: ReportFigures,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct ReportView {
    pub from: String,
    pub to: String,
    pub time_zone: String,
    /// The agent the report is limited to, if any.
    pub agent_id: Option<String>,
    pub totals: ReportFigures,
    /// Each agent who holds conversations of the period, most first.
    pub agents: Vec<AgentReport>,
    /// Every day of the period, in order.
    pub days: Vec<DayReport>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct ReportResponse {
    pub report: ReportView,
}

impl ReportView {
    /// The report, with agents named from `names` (id → name).
    pub fn new(
        report: &Report,
        agent: Option<&chat_domain::AgentId>,
        names: &HashMap<String, String>,
    ) -> Self {
        Self {
            from: report.period.from.format("%Y-%m-%d").to_string(),
            to: report.period.to.format("%Y-%m-%d").to_string(),
            time_zone: report.period.zone.name().to_owned(),
            agent_id: agent.map(|a| a.as_str().to_owned()),
            totals: (&report.totals).into(),
            agents: report
                .agents
                .iter()
                .map(|a| AgentReport {
                    agent_id: a.agent_id.as_str().to_owned(),
                    agent_name: names.get(a.agent_id.as_str()).cloned(),
                    figures: (&a.figures).into(),
                })
                .collect(),
            days: report
                .days
                .iter()
                .map(|d| DayReport {
                    date: d.date.format("%Y-%m-%d").to_string(),
                    figures: (&d.figures).into(),
                })
                .collect(),
        }
    }

    /// One row for the whole period, one per agent and one per day, under
    /// a header row (RFC 4180: CRLF, fields quoted where needed).
    pub fn csv(&self) -> String {
        const HEADER: [&str; 17] = [
            "scope",
            "key",
            "name",
            "conversations",
            "bot_only",
            "handed_off",
            "assigned",
            "first_response_p50_secs",
            "first_response_p90_secs",
            "first_response_business_p50_secs",
            "first_response_business_p90_secs",
            "resolution_p50_secs",
            "resolution_p90_secs",
            "resolution_business_p50_secs",
            "resolution_business_p90_secs",
            "rating_average",
            "rating_count",
        ];
        let mut out = HEADER.join(",");
        out.push_str("\r\n");
        let mut row = |scope: &str, key: &str, name: &str, f: &ReportFigures| {
            let n = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
            let fields = [
                scope.to_owned(),
                key.to_owned(),
                name.to_owned(),
                f.conversations.to_string(),
                f.bot_only.to_string(),
                f.handed_off.to_string(),
                f.assigned.to_string(),
                n(f.first_response_p50_secs),
                n(f.first_response_p90_secs),
                n(f.first_response_business_p50_secs),
                n(f.first_response_business_p90_secs),
                n(f.resolution_p50_secs),
                n(f.resolution_p90_secs),
                n(f.resolution_business_p50_secs),
                n(f.resolution_business_p90_secs),
                n(f.rating_average),
                f.rating_count.to_string(),
            ];
            let line: Vec<String> = fields.iter().map(|s| csv_field(s)).collect();
            let _ = write!(out, "{}\r\n", line.join(","));
        };
        let period = format!("{}..{}", self.from, self.to);
        row("total", &period, "", &self.totals);
        for a in &self.agents {
            row(
                "agent",
                &a.agent_id,
                a.agent_name.as_deref().unwrap_or(""),
                &a.figures,
            );
        }
        for d in &self.days {
            row("day", &d.date, "", &d.figures);
        }
        out
    }
}

/// A CSV field: quoted when it holds a comma, quote or line break; a
/// leading `=`, `+`, `-` or `@` (a formula to a spreadsheet) is prefixed
/// with `'`.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Ann"), "Ann");
        assert_eq!(csv_field("Doe, Ann"), "\"Doe, Ann\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("@evil"), "'@evil");
    }
}
