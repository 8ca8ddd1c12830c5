// Generated from the Rust wire types (crates/chat-transport/src/wire) by
// `UPDATE_WIRE_TYPES=1 cargo test -p chat-transport wire`. Do not edit.

export type SessionStatus = "pending" | "open" | "closed";

export type SenderType = "customer" | "agent" | "bot" | "system";

export type Role = "admin" | "agent";

export type BotMode = "off" | "knowledge_base" | "llm";

export type Message = { id: string, session_id: string, seq: number, sender_type: SenderType, sender_id: string | null, sender_name: string, body: string, created_at: string, client_msg_id: string | null, 
/**
 * The files sent with it (empty for most messages).
 */
attachments: Array<AttachmentView>, };

export type AgentRefView = { id: string, name: string, };

export type Customer = { id: string, name: string | null, email: string | null, attributes: Record<string, unknown>, };

export type PageContext = { page_url: string | null, referrer: string | null, user_agent: string | null, locale: string | null, };

export type Session = { id: string, status: SessionStatus, customer: Customer, assigned_agent: AgentRefView | null, context: PageContext, created_at: string, last_activity_at: string, last_seq: number, last_message_preview: string | null, 
/**
 * The customer's client has received up to this `seq`.
 */
customer_delivered_seq: number, 
/**
 * The customer has seen up to this `seq`.
 */
customer_read_seq: number, 
/**
 * An agent's client has received up to this `seq`.
 */
agent_delivered_seq: number, 
/**
 * An agent has seen up to this `seq`.
 */
agent_read_seq: number, 
/**
 * Customer messages after `agent_read_seq`.
 */
unread_count: number, 
/**
 * Label names, sorted.
 */
labels: Array<string>, 
/**
 * Since when it waits for a person (pending and not with the bot);
 * `null` otherwise.
 */
queued_at: string | null, 
/**
 * The customer's rating once given.
 */
rating: RatingView | null, 
/**
 * It came in while nobody was there (no agent taking conversations,
 * or outside the business hours).
 */
offline: boolean, };

export type PublicCustomer = { name: string | null, email: string | null, };

export type PublicSession = { id: string, status: SessionStatus, assigned_agent_name: string | null, customer: PublicCustomer, created_at: string, last_seq: number, 
/**
 * The newest message's first characters (the visitor's history list).
 */
last_message_preview: string | null, last_activity_at: string, customer_delivered_seq: number, customer_read_seq: number, 
/**
 * The team's clients have received up to this `seq` (two ticks).
 */
agent_delivered_seq: number, 
/**
 * Someone of the team has seen up to this `seq` (coloured ticks).
 */
agent_read_seq: number, 
/**
 * Whether the customer has rated it.
 */
rated: boolean, };

export type Agent = { id: string, name: string, email: string, role: Role, 
/**
 * A deactivated agent cannot log in.
 */
active: boolean, created_at: string, 
/**
 * Only in the agent list: whether the agent has a socket open now.
 */
online?: boolean, 
/**
 * `online` (taking new conversations), `away` or `busy`.
 */
status: string, 
/**
 * The most open conversations automatic assignment gives the agent:
 * their own cap, or the tenant's `default_max_concurrent`.
 */
max_concurrent: number, 
/**
 * Whether `max_concurrent` is the tenant's default (no cap of their
 * own).
 */
max_concurrent_is_default: boolean, 
/**
 * Only in the agent list: open conversations assigned to them.
 */
open_conversations?: number, };

export type Article = { id: string, title: string, body: string, keywords: Array<string>, 
/**
 * Waits for an admin; the bot does not use it.
 */
draft: boolean, updated_at: string, };

export type BotSetting = { mode: BotMode, name: string, };

export type ApiToken = { id: string, name: string, scopes: Array<string>, 
/**
 * The admin who made it; the token acts as them.
 */
agent_id: string, created_at: string, last_used_at: string | null, };

export type Webhook = { id: string, url: string, events: Array<string>, active: boolean, created_at: string, updated_at: string, };

export type DeliveryStatus = "pending" | "delivered" | "failed";

export type Delivery = { 
/**
 * The `webhook-id` header of every attempt.
 */
id: string, event_id: string, event_type: string, status: DeliveryStatus, attempts: number, 
/**
 * When the next attempt is due (while pending).
 */
next_attempt_at: string, 
/**
 * The HTTP status of the last attempt, if it got one.
 */
last_status: number | null, last_error: string | null, created_at: string, delivered_at: string | null, };

export type TenantSettings = { id: string, slug: string, name: string, 
/**
 * IANA time zone of transcripts (and business hours).
 */
time_zone: string, };

export type SearchHit = { message: Message, session: Session, snippet: string, };

export type CannedReply = { id: string, shortcut: string, title: string, 
/**
 * May hold `{{customer.name}}`, `{{customer.email}}` and
 * `{{agent.name}}`, filled in by the composer.
 */
body: string, updated_at: string, };

export type Label = { id: string, name: string, 
/**
 * `#rrggbb`.
 */
color: string, created_at: string, };

export type Note = { id: string, session_id: string, 
/**
 * The `seq` of the last message before it.
 */
after_seq: number, author_id: string, author_name: string, body: string, created_at: string, };

export type CustomerInput = { name?: string, email?: string, attributes?: Record<string, unknown>, };

export type ContextInput = { page_url?: string, referrer?: string, locale?: string, };

export type StartSessionRequest = { tenant_id: string, customer?: CustomerInput, context?: ContextInput, 
/**
 * The token a previous session gave this browser: the new session
 * then belongs to the same customer (a returning visitor).
 */
visitor_token?: string, };

export type SendMessageRequest = { 
/**
 * Checked by `MessageBody::parse` after trimming; this bound only stops
 * absurd inputs early (4,000 characters of 4 bytes each).
 */
body?: string, client_msg_id?: string, 
/**
 * Files uploaded to this session and not sent yet (at most 5); then
 * `body` may be empty.
 */
attachment_ids?: Array<string>, };

export type LoginRequest = { email: string, password: string, 
/**
 * The tenant's slug, for an address with accounts at several tenants;
 * without it the password picks the account.
 */
tenant_id?: string, };

export type AssignRequest = { agent_id?: string, };

export type CreateAgentRequest = { name: string, email: string, password: string, role?: string, };

export type ArticleRequest = { title: string, body: string, keywords?: Array<string>, 
/**
 * A draft waits for an admin: the bot does not use it (default false:
 * saving publishes).
 */
draft?: boolean, };

export type BotRequest = { mode: string, name?: string, };

export type ReadRequest = { seq: number, };

export type VisitorRequest = { tenant_id: string, visitor_token: string, };

export type VisitorMessagesRequest = { tenant_id: string, visitor_token: string, after_seq?: number, limit?: number, };

export type TenantSettingsRequest = { 
/**
 * An IANA time zone name such as `Europe/Berlin`.
 */
time_zone?: string, };

export type CannedReplyRequest = { shortcut: string, title: string, body: string, };

export type LabelRequest = { name: string, 
/**
 * `#rrggbb`; default `#6b7280`.
 */
color?: string, };

export type SessionLabelsRequest = { labels: Array<string>, };

export type NoteRequest = { body: string, };

export type CannedReplyResponse = { canned_reply: CannedReply, };

export type CannedReplyListResponse = { canned_replies: Array<CannedReply>, };

export type LabelResponse = { label: Label, };

export type LabelListResponse = { labels: Array<Label>, };

export type NoteResponse = { note: Note, };

export type NoteListResponse = { notes: Array<Note>, };

export type StartSessionResponse = { session_key: string, 
/**
 * Kept by the browser and sent with its next start: the same
 * customer, with their earlier conversations.
 */
visitor_token: string, session: PublicSession, };

export type PublicSessionListResponse = { sessions: Array<PublicSession>, };

export type SearchResponse = { hits: Array<SearchHit>, 
/**
 * Pass as `cursor` for the next page; `null` on the last.
 */
next_cursor: string | null, };

export type TenantSettingsResponse = { tenant: TenantSettings, };

export type PublicSessionResponse = { session: PublicSession, };

export type SessionResponse = { session: Session, };

export type SessionListResponse = { sessions: Array<Session>, };

export type MessageResponse = { message: Message, };

export type MessageListResponse = { messages: Array<Message>, };

export type LoginResponse = { token: string, expires_at: string, agent: Agent, };

export type TicketResponse = { ticket: string, expires_at: string, };

export type AgentResponse = { agent: Agent, };

export type AgentListResponse = { agents: Array<Agent>, 
/**
 * The cap of agents without one of their own.
 */
default_max_concurrent: number, };

export type AgentStatusRequest = { 
/**
 * `online` (taking new conversations), `away` or `busy`.
 */
status: string, };

export type AttachmentView = { id: string, name: string, 
/**
 * What the bytes are (sniffed), not what the uploader said.
 */
content_type: string, size: number, 
/**
 * `/api/v1/files/{token}/{name}`, under the files origin when one is
 * configured.
 */
url: string, 
/**
 * Whether it is shown inline (verified PNG, JPEG, GIF or WebP).
 */
inline: boolean, width?: number, height?: number, };

export type RatingView = { 
/**
 * 1 to 5.
 */
score: number, comment: string | null, rated_at: string, };

export type RatingRequest = { 
/**
 * 1 to 5.
 */
score: number, comment?: string, };

export type CloseRequest = { 
/**
 * Email the transcript to the customer, when outgoing email is set
 * up and the customer left an address (and did not unsubscribe).
 */
send_transcript?: boolean, };

export type PublicWidgetResponse = { name: string, greeting: string | null, primary_color: string | null, position: string | null, locale: string | null, 
/**
 * An agent is reachable and taking conversations.
 */
online: boolean, business_hours_open: boolean, 
/**
 * When the team is back (RFC 3339), while closed.
 */
next_open: string | null, time_zone: string, expected_reply: string | null, 
/**
 * `{"name","email": "off"|"optional"|"required", "email_when_offline", "fields": [{"key","label","required","choices"}]}`
 */
prechat: { name: string, email: string, email_when_offline: boolean, fields: Array<{ key: string, label: string, required: boolean, choices: string[] }> }, offline_message: string | null, csat: boolean, };

export type WidgetSettingsResponse = { widget: { name: string | null, greeting: string | null, primary_color: string | null, position: string | null, locale: string | null, expected_reply: string | null, offline_message: string | null, csat: boolean, prechat: PublicWidgetResponse['prechat'] }, };

export type BusinessHoursResponse = { time_zone: string, 
/**
 * `{"enabled", "weekly": {"mon": [{"open":"09:00","close":"17:00"}], …}, "exceptions": [{"date","intervals"}]}`
 */
business_hours: { enabled: boolean, weekly: Record<string, Array<{ open: string, close: string }>>, exceptions: Array<{ date: string, intervals: Array<{ open: string, close: string }> }> }, open_now: boolean, next_open: string | null, };

export type AttachmentResponse = { attachment: AttachmentView, };

export type AttachmentListResponse = { attachments: Array<AttachmentView>, };

export type AssignmentSettingsRequest = { 
/**
 * `manual` (agents pick conversations) or `auto`.
 */
assignment?: string, 
/**
 * 1 to 100: the cap of agents without one of their own.
 */
default_max_concurrent?: number, };

export type AssignmentSettingsResponse = { 
/**
 * `manual` or `auto`.
 */
assignment: string, default_max_concurrent: number, };

export type QueueEntry = { 
/**
 * 1 for the next to be served.
 */
position: number, 
/**
 * Seconds since it joined the queue.
 */
waiting_seconds: number, session: Session, };

export type QueueResponse = { 
/**
 * `manual` or `auto`: whether the queue drains by itself.
 */
assignment: string, 
/**
 * Longest waiting first.
 */
queue: Array<QueueEntry>, };

export type ArticleResponse = { article: Article, };

export type ArticleListResponse = { articles: Array<Article>, };

export type Suggestion = { article_id: string, title: string, passage: string, 
/**
 * 0 to 1; higher is closer.
 */
score: number, };

export type SuggestionsResponse = { 
/**
 * The customer's latest message, which the suggestions are for.
 */
question: string | null, suggestions: Array<Suggestion>, };

export type CoveringArticle = { id: string, title: string, };

export type CoverageResponse = { covered: boolean, article: CoveringArticle | null, };

export type CoverageRequest = { body: string, };

export type ArticleDraftRequest = { session_id: string, body: string, };

export type BotResponse = { bot: BotSetting, };

export type HealthResponse = { status: string, };

export type ReadyResponse = { 
/**
 * `ok`, or `degraded` while the database or the cluster bridge is down.
 */
status: string, 
/**
 * `ok` or `down`: readiness means the database (503 when it is down).
 */
database: string, 
/**
 * `ok`, `down` or `disabled` (no `CHAT__REDIS__URL`); a node whose
 * bridge is down still serves its own sockets and REST, so it stays
 * ready.
 */
redis: string, connections: number, };

export type UpdateAgentRequest = { name?: string, 
/**
 * `admin` or `agent`.
 */
role?: string, 
/**
 * `false` deactivates: the agent's tokens are revoked and their
 * sockets closed at once.
 */
active?: boolean, 
/**
 * 1 to 100: the most open conversations automatic assignment gives
 * the agent; `null` goes back to the tenant's default.
 */
max_concurrent?: number | null, };

export type ChangePasswordRequest = { current_password: string, new_password: string, };

export type CreateApiTokenRequest = { name: string, 
/**
 * Checked by `Scope::parse_list`.
 */
scopes: Array<string>, };

export type ApiTokenListResponse = { api_tokens: Array<ApiToken>, };

export type CreateApiTokenResponse = { api_token: ApiToken, token: string, };

export type CreateWebhookRequest = { url: string, 
/**
 * Checked by `parse_events`.
 */
events: Array<string>, active?: boolean, };

export type UpdateWebhookRequest = { url?: string, events?: Array<string>, active?: boolean, };

export type WebhookResponse = { webhook: Webhook, };

export type CreateWebhookResponse = { webhook: Webhook, secret: string, };

export type WebhookListResponse = { webhooks: Array<Webhook>, };

export type DeliveryListResponse = { deliveries: Array<Delivery>, };

export type DeliveryResponse = { delivery: Delivery, };

export type ResumeRequest = { token: string, };

export type UnsubscribeResponse = { unsubscribed: boolean, };

export type EmailSettingsView = { 
/**
 * Outgoing email is set up (`CHAT__SMTP__URL`); without it nothing is
 * emailed.
 */
enabled: boolean, 
/**
 * The sender's address.
 */
from: string | null, 
/**
 * How long an agent's reply may stay unreceived before it is emailed.
 */
unseen_delay_secs: number | null, };

export type EmailSettingsResponse = { email: EmailSettingsView, };

export type NotificationSettings = { 
/**
 * Email me a conversation given to me while I am away from the
 * dashboard.
 */
email_when_offline: boolean, };

export type NotificationSettingsResponse = { notifications: NotificationSettings, };

export type ReportFigures = { 
/**
 * Conversations started.
 */
conversations: number, 
/**
 * Answered by the bot and never handed to a person.
 */
bot_only: number, 
/**
 * Handed from the bot to a person.
 */
handed_off: number, 
/**
 * Held by an agent.
 */
assigned: number, 
/**
 * From the moment a conversation waited for a person (its start, or
 * the bot's hand-off) to an agent's first message: wall time.
 */
first_response_p50_secs: number | null, first_response_p90_secs: number | null, 
/**
 * The same, counting business hours only.
 */
first_response_business_p50_secs: number | null, first_response_business_p90_secs: number | null, 
/**
 * From the start to the close, of conversations closed now.
 */
resolution_p50_secs: number | null, resolution_p90_secs: number | null, resolution_business_p50_secs: number | null, resolution_business_p90_secs: number | null, 
/**
 * Satisfaction ratings (1 to 5).
 */
rating_average: number | null, rating_count: number, };

export type AgentReport = { agent_id: string, 
/**
 * `null` for an agent no longer on the team.
 */
agent_name: string | null, 
/**
 * Conversations started.
 */
conversations: number, 
/**
 * Answered by the bot and never handed to a person.
 */
bot_only: number, 
/**
 * Handed from the bot to a person.
 */
handed_off: number, 
/**
 * Held by an agent.
 */
assigned: number, 
/**
 * From the moment a conversation waited for a person (its start, or
 * the bot's hand-off) to an agent's first message: wall time.
 */
first_response_p50_secs: number | null, first_response_p90_secs: number | null, 
/**
 * The same, counting business hours only.
 */
first_response_business_p50_secs: number | null, first_response_business_p90_secs: number | null, 
/**
 * From the start to the close, of conversations closed now.
 */
resolution_p50_secs: number | null, resolution_p90_secs: number | null, resolution_business_p50_secs: number | null, resolution_business_p90_secs: number | null, 
/**
 * Satisfaction ratings (1 to 5).
 */
rating_average: number | null, rating_count: number, };

export type DayReport = { 
/**
 * `YYYY-MM-DD`, local.
 */
date: string, 
/**
 * Conversations started.
 */
conversations: number, 
/**
 * Answered by the bot and never handed to a person.
 */
bot_only: number, 
/**
 * Handed from the bot to a person.
 */
handed_off: number, 
/**
 * Held by an agent.
 */
assigned: number, 
/**
 * From the moment a conversation waited for a person (its start, or
 * the bot's hand-off) to an agent's first message: wall time.
 */
first_response_p50_secs: number | null, first_response_p90_secs: number | null, 
/**
 * The same, counting business hours only.
 */
first_response_business_p50_secs: number | null, first_response_business_p90_secs: number | null, 
/**
 * From the start to the close, of conversations closed now.
 */
resolution_p50_secs: number | null, resolution_p90_secs: number | null, resolution_business_p50_secs: number | null, resolution_business_p90_secs: number | null, 
/**
 * Satisfaction ratings (1 to 5).
 */
rating_average: number | null, rating_count: number, };

export type ReportView = { from: string, to: string, time_zone: string, 
/**
 * The agent the report is limited to, if any.
 */
agent_id: string | null, totals: ReportFigures, 
/**
 * Each agent who holds conversations of the period, most first.
 */
agents: Array<AgentReport>, 
/**
 * Every day of the period, in order.
 */
days: Array<DayReport>, };

export type ReportResponse = { report: ReportView, };

export type ErrorDetail = { code: string, message: string, field?: string, 
/**
 * The request's `X-Request-Id`, to quote when reporting a problem.
 */
request_id?: string, };

export type ErrorResponse = { error: ErrorDetail, };

export type AssignedPayload<S> = { session_id: string, agent_id: string, agent_name: string, previous_agent_id: string | null, session: S, };

export type JoinedPayload = { session_id: string, agent_id: string, agent_name: string, };

export type StatePayload<S> = { session_id: string, status: SessionStatus, session: S, };

export type TypingPayload = { session_id: string, sender_type: SenderType, name: string, is_typing: boolean, };

export type HandoffPayload = { session_id: string, 
/**
 * `requested` (the customer asked for a person), `not_confident` or
 * `budget`.
 */
reason: string, 
/**
 * Up to three articles closest to the customer's question, best
 * first (agents only; empty when none comes close).
 */
suggestions: Array<Suggestion>, };

export type PresencePayload = { agent_id: string, name: string, 
/**
 * A socket of the agent is open.
 */
online: boolean, 
/**
 * `online` (taking new conversations), `away` or `busy`.
 */
status: string, };

export type ReceiptPayload = { session_id: string, 
/**
 * Whose pointers: `customer` or `agent`.
 */
side: string, delivered_seq: number, read_seq: number, 
/**
 * The agent who read, on the agents' side.
 */
agent_name?: string, 
/**
 * The agents' unread count after it (agents' side only).
 */
unread_count?: number, };

export type UpdatedPayload<S> = { session_id: string, session: S, };

export type MentionPayload = { session_id: string, note: Note, 
/**
 * The name of the agent who wrote it.
 */
by: string, };

export type AckPayload = { client_msg_id: string, message: Message, };

export type ResyncPayload = { 
/**
 * `bridge_reconnected`.
 */
reason: string, };

export type ResumeDonePayload = { session_id: string, 
/**
 * The last `seq` the replay covered.
 */
last_seq: number, 
/**
 * One resume replays at most a page of messages (500 by default);
 * `true` means more follow: resume again from `last_seq`.
 */
more: boolean, };

export type Empty = Record<symbol, never>;

export type ErrorPayload = { code: string, message: string, 
/**
 * Set when the error answers a `chat.message.send`.
 */
client_msg_id?: string, };

export type ServerFrame<S> = { "type": "chat.session.started", "payload": S } | { "type": "chat.message.new", "payload": Message } | { "type": "chat.session.assigned", "payload": AssignedPayload<S> } | { "type": "chat.agent.joined", "payload": JoinedPayload } | { "type": "chat.session.closed", "payload": StatePayload<S> } | { "type": "chat.session.reopened", "payload": StatePayload<S> } | { "type": "chat.typing", "payload": TypingPayload } | { "type": "chat.bot.handoff", "payload": HandoffPayload } | { "type": "agent.presence", "payload": PresencePayload } | { "type": "chat.receipt", "payload": ReceiptPayload } | { "type": "chat.session.updated", "payload": UpdatedPayload<S> } | { "type": "chat.session.rated", "payload": UpdatedPayload<S> } | { "type": "chat.note.new", "payload": Note } | { "type": "chat.mention", "payload": MentionPayload } | { "type": "chat.message.ack", "payload": AckPayload } | { "type": "chat.resume.done", "payload": ResumeDonePayload } | { "type": "pong", "payload": Empty } | { "type": "chat.resync", "payload": ResyncPayload } | { "type": "error", "payload": ErrorPayload };

export type TypingFrame = { 
/**
 * Required on agent sockets; a customer's socket knows its session.
 */
session_id?: string, is_typing: boolean, };

export type SendFrame = { session_id?: string, body?: string, client_msg_id: string, 
/**
 * Files uploaded to this session and not sent yet (at most 5).
 */
attachment_ids?: Array<string>, };

export type ResumeFrame = { session_id?: string, after_seq: number, };

export type ReceiptFrame = { session_id?: string, seq: number, };

export type NoteFrame = { session_id: string, body: string, };

export type ClientFrame = { "type": "chat.typing", "payload": TypingFrame } | { "type": "chat.message.send", "payload": SendFrame } | { "type": "chat.resume", "payload": ResumeFrame } | { "type": "chat.message.delivered", "payload": ReceiptFrame } | { "type": "chat.message.read", "payload": ReceiptFrame } | { "type": "chat.note.send", "payload": NoteFrame } | { "type": "ping" };

/** Every frame an agent's socket receives. */
export type AgentFrame = ServerFrame<Session>;

/** Every frame a customer's socket receives. */
export type CustomerFrame = ServerFrame<PublicSession>;
