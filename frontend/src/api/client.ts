// The one HTTP client, with the one error handler: every failure becomes an
// ApiError carrying the server's code and message.

import type {
  ArticleListResponse,
  ArticleRequest,
  ArticleResponse,
  CoverageResponse,
  SuggestionsResponse,
  AgentListResponse,
  AgentResponse,
  AgentStatusRequest,
  AssignmentSettingsRequest,
  AssignmentSettingsResponse,
  AssignRequest,
  AttachmentListResponse,
  AttachmentResponse,
  QueueResponse,
  CloseRequest,
  EmailSettingsResponse,
  NotificationSettings,
  NotificationSettingsResponse,
  ReportResponse,
  WidgetSettingsResponse,
  BusinessHoursResponse,
  CannedReplyListResponse,
  CannedReplyRequest,
  CannedReplyResponse,
  LabelListResponse,
  LabelResponse,
  NoteListResponse,
  NoteResponse,
  ChangePasswordRequest,
  CreateAgentRequest,
  ErrorResponse,
  LoginRequest,
  LoginResponse,
  MessageListResponse,
  MessageResponse,
  SearchResponse,
  SendMessageRequest,
  SessionListResponse,
  SessionResponse,
  TicketResponse,
  UpdateAgentRequest,
} from './wire';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

type ErrorListener = (e: ApiError) => void;
let onError: ErrorListener = () => {};
/** The central handler (toasts, logout on 401). */
export function setErrorHandler(fn: ErrorListener): void {
  onError = fn;
}

export class Api {
  constructor(
    private base: string,
    private token: string | null = null,
  ) {}

  withToken(token: string | null): Api {
    return new Api(this.base, token);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      const e = new ApiError(0, 'network', 'The server cannot be reached.');
      onError(e);
      throw e;
    }
    if (res.status === 204) return undefined as T;
    const data: unknown = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = (data as Partial<ErrorResponse>).error;
      const e = new ApiError(res.status, err?.code ?? 'error', err?.message ?? res.statusText);
      onError(e);
      throw e;
    }
    return data as T;
  }

  login(email: string, password: string) {
    const body: LoginRequest = { email, password };
    return this.request<LoginResponse>('POST', '/api/v1/auth/login', body);
  }
  logout() {
    return this.request<void>('POST', '/api/v1/auth/logout');
  }
  me() {
    return this.request<AgentResponse>('GET', '/api/v1/agents/me');
  }
  agents() {
    return this.request<AgentListResponse>('GET', '/api/v1/agents');
  }
  sessions(params: { status?: string; assigned?: string; q?: string } = {}) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) qs.set(k, v);
    const s = qs.toString();
    return this.request<SessionListResponse>('GET', `/api/v1/chat/sessions${s ? `?${s}` : ''}`);
  }
  history(id: string) {
    return this.request<SessionListResponse>('GET', `/api/v1/chat/sessions/${id}/history`);
  }
  messagesBefore(id: string, beforeSeq: number, limit = 50) {
    return this.request<MessageListResponse>('GET', `/api/v1/chat/sessions/${id}/messages?before_seq=${beforeSeq}&limit=${limit}`);
  }
  send(id: string, body: string, clientMsgId: string, attachmentIds: string[] = []) {
    const req: SendMessageRequest = { body, client_msg_id: clientMsgId, attachment_ids: attachmentIds };
    return this.request<MessageResponse>('POST', `/api/v1/chat/sessions/${id}/messages`, req);
  }
  assign(id: string, agentId?: string) {
    const req: AssignRequest | undefined = agentId ? { agent_id: agentId } : undefined;
    return this.request<SessionResponse>('POST', `/api/v1/chat/sessions/${id}/assign`, req);
  }
  close(id: string, sendTranscript = false) {
    const req: CloseRequest = { send_transcript: sendTranscript };
    return this.request<SessionResponse>('POST', `/api/v1/chat/sessions/${id}/close`, req);
  }
  emailSettings() {
    return this.request<EmailSettingsResponse>('GET', '/api/v1/settings/email');
  }
  notifications() {
    return this.request<NotificationSettingsResponse>('GET', '/api/v1/agents/me/notifications');
  }
  setNotifications(req: NotificationSettings) {
    return this.request<NotificationSettingsResponse>('PUT', '/api/v1/agents/me/notifications', req);
  }
  reopen(id: string) {
    return this.request<SessionResponse>('POST', `/api/v1/chat/sessions/${id}/reopen`);
  }
  createAgent(req: CreateAgentRequest) {
    return this.request<AgentResponse>('POST', '/api/v1/agents', req);
  }
  updateAgent(id: string, req: UpdateAgentRequest) {
    return this.request<AgentResponse>('PATCH', `/api/v1/agents/${id}`, req);
  }
  /** Your availability: online takes new conversations, away and busy do not. */
  setStatus(status: AgentStatusRequest['status']) {
    const req: AgentStatusRequest = { status };
    return this.request<AgentResponse>('PUT', '/api/v1/agents/me/status', req);
  }
  widgetSettings() {
    return this.request<WidgetSettingsResponse>('GET', '/api/v1/settings/widget');
  }
  setWidgetSettings(widget: WidgetSettingsResponse['widget']) {
    return this.request<WidgetSettingsResponse>('PUT', '/api/v1/settings/widget', widget);
  }
  businessHours() {
    return this.request<BusinessHoursResponse>('GET', '/api/v1/settings/business-hours');
  }
  setBusinessHours(hours: BusinessHoursResponse['business_hours'] & { time_zone?: string }) {
    return this.request<BusinessHoursResponse>('PUT', '/api/v1/settings/business-hours', hours);
  }
  queue() {
    return this.request<QueueResponse>('GET', '/api/v1/queue');
  }
  assignmentSettings() {
    return this.request<AssignmentSettingsResponse>('GET', '/api/v1/settings/assignment');
  }
  setAssignmentSettings(req: AssignmentSettingsRequest) {
    return this.request<AssignmentSettingsResponse>('PUT', '/api/v1/settings/assignment', req);
  }
  changePassword(req: ChangePasswordRequest) {
    return this.request<void>('POST', '/api/v1/agents/me/password', req);
  }
  /** Full-text search of messages, newest first. */
  searchMessages(q: string, cursor?: string) {
    const qs = new URLSearchParams({ q, limit: '20' });
    if (cursor) qs.set('cursor', cursor);
    return this.request<SearchResponse>('GET', `/api/v1/search/messages?${qs.toString()}`);
  }
  /** Uploads a file to a conversation (streamed; the server sniffs its type). */
  async upload(id: string, file: File, signal?: AbortSignal): Promise<AttachmentResponse> {
    const form = new FormData();
    form.append('file', file, file.name);
    const res = await fetch(`${this.base}/api/v1/chat/sessions/${id}/attachments`, { method: 'POST', headers: this.token ? { Authorization: `Bearer ${this.token}` } : {}, body: form, signal });
    const data: unknown = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = (data as Partial<ErrorResponse>).error;
      throw new ApiError(res.status, err?.code ?? 'upload', err?.message ?? res.statusText);
    }
    return data as AttachmentResponse;
  }
  files(id: string) {
    return this.request<AttachmentListResponse>('GET', `/api/v1/chat/sessions/${id}/attachments`);
  }
  /** A transcript file (it needs the bearer token, so no plain link). */
  async transcript(id: string, format: 'txt' | 'html' | 'json'): Promise<Blob> {
    const res = await fetch(`${this.base}/api/v1/chat/sessions/${id}/transcript?format=${format}`, { headers: this.token ? { Authorization: `Bearer ${this.token}` } : {} });
    if (!res.ok) throw new ApiError(res.status, 'transcript', res.statusText);
    return res.blob();
  }
  /** The summary of a period (dates in the tenant's zone, both included). */
  report(params: { from?: string; to?: string; agent_id?: string }) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) qs.set(k, v);
    const s = qs.toString();
    return this.request<ReportResponse>('GET', `/api/v1/reports/summary${s ? `?${s}` : ''}`);
  }
  async reportCsv(params: { from?: string; to?: string; agent_id?: string }): Promise<Blob> {
    const qs = new URLSearchParams({ format: 'csv' });
    for (const [k, v] of Object.entries(params)) if (v) qs.set(k, v);
    const res = await fetch(`${this.base}/api/v1/reports/summary?${qs.toString()}`, { headers: this.token ? { Authorization: `Bearer ${this.token}` } : {} });
    if (!res.ok) throw new ApiError(res.status, 'report', res.statusText);
    return res.blob();
  }
  cannedReplies() {
    return this.request<CannedReplyListResponse>('GET', '/api/v1/canned-replies');
  }
  createCanned(req: CannedReplyRequest) {
    return this.request<CannedReplyResponse>('POST', '/api/v1/canned-replies', req);
  }
  deleteCanned(id: string) {
    return this.request<void>('DELETE', `/api/v1/canned-replies/${id}`);
  }
  labels() {
    return this.request<LabelListResponse>('GET', '/api/v1/labels');
  }
  createLabel(name: string, color: string) {
    return this.request<LabelResponse>('POST', '/api/v1/labels', { name, color });
  }
  setLabels(id: string, labels: string[]) {
    return this.request<SessionResponse>('PUT', `/api/v1/chat/sessions/${id}/labels`, { labels });
  }
  notes(id: string) {
    return this.request<NoteListResponse>('GET', `/api/v1/chat/sessions/${id}/notes`);
  }
  addNote(id: string, body: string) {
    return this.request<NoteResponse>('POST', `/api/v1/chat/sessions/${id}/notes`, { body });
  }
  /** The articles closest to the customer's latest message. */
  suggestions(id: string) {
    return this.request<SuggestionsResponse>('GET', `/api/v1/chat/sessions/${id}/suggestions`);
  }
  /** Whether a published article already says what a reply says. */
  coverage(body: string) {
    return this.request<CoverageResponse>('POST', '/api/v1/kb/coverage', { body });
  }
  /** A reply to the conversation's question, as a draft article for the admins. */
  draftArticle(sessionId: string, body: string) {
    return this.request<ArticleResponse>('POST', '/api/v1/kb/drafts', { session_id: sessionId, body });
  }
  articles() {
    return this.request<ArticleListResponse>('GET', '/api/v1/kb/articles');
  }
  saveArticle(id: string | null, req: ArticleRequest) {
    return id
      ? this.request<ArticleResponse>('PUT', `/api/v1/kb/articles/${id}`, req)
      : this.request<ArticleResponse>('POST', '/api/v1/kb/articles', req);
  }
  deleteArticle(id: string) {
    return this.request<void>('DELETE', `/api/v1/kb/articles/${id}`);
  }
  ticket() {
    return this.request<TicketResponse>('POST', '/api/v1/ws/ticket');
  }
}
