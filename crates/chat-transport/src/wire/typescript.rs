//! The TypeScript the dashboard and the widget compile against, generated
//! from the wire types, and the check that the committed copies match.
//!
//! `UPDATE_WIRE_TYPES=1 cargo test -p chat-transport wire` rewrites them
//! after a change to a wire type; without it the test fails on any
//! difference, so a renamed field cannot reach a client unnoticed.

use std::path::PathBuf;

use ts_rs::{Config, TS};

use super::bodies::*;
use super::email::*;
use super::frames::*;
use super::reports::*;
use super::views::*;

/// Where the generated declarations are committed, from this crate's root.
const OUTPUTS: &[&str] = &[
    "../../frontend/src/api/wire.ts",
    "../../widget/src/wire.d.ts",
];

const HEADER: &str = "// Generated from the Rust wire types (crates/chat-transport/src/wire) by\n\
// `UPDATE_WIRE_TYPES=1 cargo test -p chat-transport wire`. Do not edit.\n";

fn decl<T: TS + ?Sized>(cfg: &Config, out: &mut String) {
    out.push_str("\nexport ");
    out.push_str(&T::decl(cfg));
    out.push('\n');
}

fn generate() -> String {
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(HEADER);
    // Views.
    decl::<SessionStatus>(&cfg, &mut out);
    decl::<SenderType>(&cfg, &mut out);
    decl::<Role>(&cfg, &mut out);
    decl::<BotMode>(&cfg, &mut out);
    decl::<Message>(&cfg, &mut out);
    decl::<AgentRefView>(&cfg, &mut out);
    decl::<Customer>(&cfg, &mut out);
    decl::<PageContext>(&cfg, &mut out);
    decl::<Session>(&cfg, &mut out);
    decl::<PublicCustomer>(&cfg, &mut out);
    decl::<PublicSession>(&cfg, &mut out);
    decl::<Agent>(&cfg, &mut out);
    decl::<Article>(&cfg, &mut out);
    decl::<BotSetting>(&cfg, &mut out);
    decl::<ApiToken>(&cfg, &mut out);
    decl::<Webhook>(&cfg, &mut out);
    decl::<DeliveryStatus>(&cfg, &mut out);
    decl::<Delivery>(&cfg, &mut out);
    decl::<TenantSettings>(&cfg, &mut out);
    decl::<SearchHit>(&cfg, &mut out);
    decl::<CannedReply>(&cfg, &mut out);
    decl::<Label>(&cfg, &mut out);
    decl::<Note>(&cfg, &mut out);
    // REST bodies.
    decl::<CustomerInput>(&cfg, &mut out);
    decl::<ContextInput>(&cfg, &mut out);
    decl::<StartSessionRequest>(&cfg, &mut out);
    decl::<SendMessageRequest>(&cfg, &mut out);
    decl::<LoginRequest>(&cfg, &mut out);
    decl::<AssignRequest>(&cfg, &mut out);
    decl::<CreateAgentRequest>(&cfg, &mut out);
    decl::<ArticleRequest>(&cfg, &mut out);
    decl::<BotRequest>(&cfg, &mut out);
    decl::<ReadRequest>(&cfg, &mut out);
    decl::<VisitorRequest>(&cfg, &mut out);
    decl::<VisitorMessagesRequest>(&cfg, &mut out);
    decl::<TenantSettingsRequest>(&cfg, &mut out);
    decl::<CannedReplyRequest>(&cfg, &mut out);
    decl::<LabelRequest>(&cfg, &mut out);
    decl::<SessionLabelsRequest>(&cfg, &mut out);
    decl::<NoteRequest>(&cfg, &mut out);
    decl::<CannedReplyResponse>(&cfg, &mut out);
    decl::<CannedReplyListResponse>(&cfg, &mut out);
    decl::<LabelResponse>(&cfg, &mut out);
    decl::<LabelListResponse>(&cfg, &mut out);
    decl::<NoteResponse>(&cfg, &mut out);
    decl::<NoteListResponse>(&cfg, &mut out);
    decl::<StartSessionResponse>(&cfg, &mut out);
    decl::<PublicSessionListResponse>(&cfg, &mut out);
    decl::<SearchResponse>(&cfg, &mut out);
    decl::<TenantSettingsResponse>(&cfg, &mut out);
    decl::<PublicSessionResponse>(&cfg, &mut out);
    decl::<SessionResponse>(&cfg, &mut out);
    decl::<SessionListResponse>(&cfg, &mut out);
    decl::<MessageResponse>(&cfg, &mut out);
    decl::<MessageListResponse>(&cfg, &mut out);
    decl::<LoginResponse>(&cfg, &mut out);
    decl::<TicketResponse>(&cfg, &mut out);
    decl::<AgentResponse>(&cfg, &mut out);
    decl::<AgentListResponse>(&cfg, &mut out);
    decl::<AgentStatusRequest>(&cfg, &mut out);
    decl::<AttachmentView>(&cfg, &mut out);
    decl::<RatingView>(&cfg, &mut out);
    decl::<RatingRequest>(&cfg, &mut out);
    decl::<CloseRequest>(&cfg, &mut out);
    decl::<PublicWidgetResponse>(&cfg, &mut out);
    decl::<WidgetSettingsResponse>(&cfg, &mut out);
    decl::<BusinessHoursResponse>(&cfg, &mut out);
    decl::<AttachmentResponse>(&cfg, &mut out);
    decl::<AttachmentListResponse>(&cfg, &mut out);
    decl::<AssignmentSettingsRequest>(&cfg, &mut out);
    decl::<AssignmentSettingsResponse>(&cfg, &mut out);
    decl::<QueueEntry>(&cfg, &mut out);
    decl::<QueueResponse>(&cfg, &mut out);
    decl::<ArticleResponse>(&cfg, &mut out);
    decl::<ArticleListResponse>(&cfg, &mut out);
    decl::<Suggestion>(&cfg, &mut out);
    decl::<SuggestionsResponse>(&cfg, &mut out);
    decl::<CoveringArticle>(&cfg, &mut out);
    decl::<CoverageResponse>(&cfg, &mut out);
    decl::<CoverageRequest>(&cfg, &mut out);
    decl::<ArticleDraftRequest>(&cfg, &mut out);
    decl::<BotResponse>(&cfg, &mut out);
    decl::<HealthResponse>(&cfg, &mut out);
    decl::<ReadyResponse>(&cfg, &mut out);
    decl::<UpdateAgentRequest>(&cfg, &mut out);
    decl::<ChangePasswordRequest>(&cfg, &mut out);
    decl::<CreateApiTokenRequest>(&cfg, &mut out);
    decl::<ApiTokenListResponse>(&cfg, &mut out);
    decl::<CreateApiTokenResponse>(&cfg, &mut out);
    decl::<CreateWebhookRequest>(&cfg, &mut out);
    decl::<UpdateWebhookRequest>(&cfg, &mut out);
    decl::<WebhookResponse>(&cfg, &mut out);
    decl::<CreateWebhookResponse>(&cfg, &mut out);
    decl::<WebhookListResponse>(&cfg, &mut out);
    decl::<DeliveryListResponse>(&cfg, &mut out);
    decl::<DeliveryResponse>(&cfg, &mut out);
    decl::<ResumeRequest>(&cfg, &mut out);
    decl::<UnsubscribeResponse>(&cfg, &mut out);
    decl::<EmailSettingsView>(&cfg, &mut out);
    decl::<EmailSettingsResponse>(&cfg, &mut out);
    decl::<NotificationSettings>(&cfg, &mut out);
    decl::<NotificationSettingsResponse>(&cfg, &mut out);
    decl::<ReportFigures>(&cfg, &mut out);
    decl::<AgentReport>(&cfg, &mut out);
    decl::<DayReport>(&cfg, &mut out);
    decl::<ReportView>(&cfg, &mut out);
    decl::<ReportResponse>(&cfg, &mut out);
    decl::<ErrorDetail>(&cfg, &mut out);
    decl::<ErrorResponse>(&cfg, &mut out);
    // WebSocket frames.
    decl::<AssignedPayload<Session>>(&cfg, &mut out);
    decl::<JoinedPayload>(&cfg, &mut out);
    decl::<StatePayload<Session>>(&cfg, &mut out);
    decl::<TypingPayload>(&cfg, &mut out);
    decl::<HandoffPayload>(&cfg, &mut out);
    decl::<PresencePayload>(&cfg, &mut out);
    decl::<ReceiptPayload>(&cfg, &mut out);
    decl::<UpdatedPayload<Session>>(&cfg, &mut out);
    decl::<MentionPayload>(&cfg, &mut out);
    decl::<AckPayload>(&cfg, &mut out);
    decl::<ResyncPayload>(&cfg, &mut out);
    decl::<ResumeDonePayload>(&cfg, &mut out);
    decl::<Empty>(&cfg, &mut out);
    decl::<ErrorPayload>(&cfg, &mut out);
    decl::<ServerFrame<Session>>(&cfg, &mut out);
    decl::<TypingFrame>(&cfg, &mut out);
    decl::<SendFrame>(&cfg, &mut out);
    decl::<ResumeFrame>(&cfg, &mut out);
    decl::<ReceiptFrame>(&cfg, &mut out);
    decl::<NoteFrame>(&cfg, &mut out);
    decl::<ClientFrame>(&cfg, &mut out);
    out.push_str(
        "\n/** Every frame an agent's socket receives. */\n\
         export type AgentFrame = ServerFrame<Session>;\n\
         \n/** Every frame a customer's socket receives. */\n\
         export type CustomerFrame = ServerFrame<PublicSession>;\n",
    );
    out
}

#[test]
fn the_committed_typescript_matches_the_wire_types() {
    let generated = generate();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var("UPDATE_WIRE_TYPES").is_ok_and(|v| v == "1");
    for rel in OUTPUTS {
        let path = root.join(rel);
        if update {
            std::fs::write(&path, &generated).expect("the generated file is writable");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} differs from the Rust wire types; run \
             `UPDATE_WIRE_TYPES=1 cargo test -p chat-transport wire` and commit the result",
            path.display()
        );
    }
}
