//! Outgoing email on the wire: the link back into a conversation, the
//! unsubscribe answer, the email settings and an agent's notification
//! setting.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

/// The token of an email's link (the `parley_resume` parameter).
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeRequest {
    pub token: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    pub token: Option<String>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct UnsubscribeResponse {
    pub unsubscribed: bool,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct EmailSettingsView {
    /// Outgoing email is set up (`CHAT__SMTP__URL`); without it nothing is
    /// emailed.
    pub enabled: bool,
    /// The sender's address.
    pub from: Option<String>,
    /// How long an agent's reply may stay unreceived before it is emailed.
    pub unseen_delay_secs: Option<u64>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct EmailSettingsResponse {
    pub email: EmailSettingsView,
}

#[derive(Debug, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    /// Email me a conversation given to me while I am away from the
    /// dashboard.
    pub email_when_offline: bool,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct NotificationSettingsResponse {
    pub notifications: NotificationSettings,
}
