//! Sessions and messages of the in-memory store: the conversation half
//! of its repositories.

use async_trait::async_trait;
use chat_domain::message::preview;
use chat_domain::repo::{HealthCheck, MessageRepository, SessionRepository};
use chat_domain::{
    AgentRef, AppendOutcome, AssigneeFilter, ChatSession, Committed, Customer, CustomerId, Message,
    MessageHit, MessageId, MessageSearch, NewMessage, NewSession, ReceiptChange, ReceiptSide,
    ReceiptUpdate, RepoError, RepoResult, SearchPage, SearchTerm, SenderType, SessionFilter,
    SessionId, SessionKeyHash, SessionStatus, TenantId, Timestamp, VisitorLink,
};

/// Whether a body matches every term of a query (words split the way the
/// databases' tokenizers do).
fn body_matches(body: &str, query: &chat_domain::SearchQuery) -> bool {
    let words = chat_domain::search::words(body);
    !query.is_empty()
        && query.terms().iter().all(|t| match t {
            SearchTerm::Word { word, prefix: true } => words.iter().any(|w| w.starts_with(word)),
            SearchTerm::Word { word, .. } => words.iter().any(|w| w == word),
            SearchTerm::Phrase(ps) => words.windows(ps.len()).any(|win| win == ps.as_slice()),
        })
}

use crate::store::{InMemoryStore, new_id};

fn matches(session: &ChatSession, messages: &[Message], f: &SessionFilter) -> bool {
    let status_ok = f.status.is_none_or(|st| session.status == st);
    let assignee_ok = match f.assignee {
        AssigneeFilter::Any => true,
        AssigneeFilter::Unassigned => session.assigned_agent.is_none(),
        AssigneeFilter::Agent => {
            session.assigned_agent.as_ref().map(|a| &a.id) == f.agent_id.as_ref()
        }
    };
    let label_ok = f
        .label
        .as_ref()
        .is_none_or(|l| session.labels.iter().any(|x| x == l.as_str()));
    let customer_ok = f
        .customer_id
        .as_ref()
        .is_none_or(|c| &session.customer.id == c);
    let query_ok = f.query.as_ref().is_none_or(|q| {
        let q = q.to_lowercase();
        let hit = |s: &str| s.to_lowercase().contains(&q);
        session.customer.name.as_deref().is_some_and(hit)
            || session
                .customer
                .email
                .as_ref()
                .is_some_and(|e| hit(e.as_str()))
            || f.message_query.as_ref().is_some_and(|mq| {
                messages
                    .iter()
                    .any(|m| m.session_id == session.id && body_matches(&m.body, mq))
            })
    });
    status_ok && assignee_ok && label_ok && customer_ok && query_ok
}

/// A tenant's session, for changing it in place.
fn session_mut<'a>(
    sessions: &'a mut [(ChatSession, SessionKeyHash)],
    tenant: &TenantId,
    id: &SessionId,
) -> RepoResult<&'a mut ChatSession> {
    sessions
        .iter_mut()
        .map(|(sess, _)| sess)
        .find(|sess| &sess.tenant_id == tenant && &sess.id == id)
        .ok_or(RepoError::NotFound)
}

#[async_trait]
impl SessionRepository for InMemoryStore {
    async fn create(
        &self,
        tenant: &TenantId,
        new: NewSession,
    ) -> RepoResult<Committed<ChatSession>> {
        let now = chrono::Utc::now();
        let customer = self.with(|s| match &new.visitor {
            VisitorLink::New(hash) => {
                let c = Customer {
                    id: CustomerId::new(new_id()),
                    name: new.customer.name.clone(),
                    email: new.customer.email.clone(),
                    attributes: new.customer.attributes.clone(),
                };
                s.visitors
                    .push((tenant.clone(), hash.clone(), c.clone(), now));
                Ok(c)
            }
            VisitorLink::Returning(id) => {
                let (_, _, c, seen) = s
                    .visitors
                    .iter_mut()
                    .find(|(t, _, c, _)| t == tenant && &c.id == id)
                    .ok_or(RepoError::NotFound)?;
                *seen = now;
                if let Some(name) = &new.customer.name {
                    c.name = Some(name.clone());
                }
                if let Some(email) = &new.customer.email {
                    c.email = Some(email.clone());
                }
                Ok(c.clone())
            }
        })?;
        let session = ChatSession {
            id: SessionId::new(new_id()),
            tenant_id: tenant.clone(),
            customer,
            status: SessionStatus::Pending,
            assigned_agent: None,
            context: new.context,
            created_at: now,
            last_activity_at: now,
            last_seq: 0,
            last_message_preview: None,
            bot_handed_off: false,
            receipts: Default::default(),
            unread_count: 0,
            labels: Vec::new(),
            queued_at: new.queued.then_some(now),
            rating: None,
            offline: new.offline,
        };
        self.with(|s| s.sessions.push((session.clone(), new.key_hash)));
        Ok(Committed::new(session))
    }

    async fn find_by_key_hash(&self, key_hash: &SessionKeyHash) -> RepoResult<Option<ChatSession>> {
        Ok(self.with(|s| {
            s.sessions
                .iter()
                .find(|(_, k)| k == key_hash)
                .map(|(sess, _)| sess.clone())
        }))
    }

    async fn find(&self, tenant: &TenantId, id: &SessionId) -> RepoResult<Option<ChatSession>> {
        Ok(self.with(|s| {
            s.sessions
                .iter()
                .map(|(sess, _)| sess)
                .find(|sess| &sess.tenant_id == tenant && &sess.id == id)
                .cloned()
        }))
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &SessionFilter,
    ) -> RepoResult<Vec<ChatSession>> {
        Ok(self.with(|s| {
            let mut v: Vec<ChatSession> = s
                .sessions
                .iter()
                .map(|(sess, _)| sess)
                .filter(|sess| &sess.tenant_id == tenant && matches(sess, &s.messages, filter))
                .cloned()
                .collect();
            v.sort_by(|a, b| {
                b.last_activity_at
                    .cmp(&a.last_activity_at)
                    .then(b.id.cmp(&a.id))
            });
            v.truncate(usize::try_from(filter.limit).unwrap_or(usize::MAX));
            v
        }))
    }

    async fn update_state(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        expected: SessionStatus,
        status: SessionStatus,
        assigned: Option<AgentRef>,
        change: chat_domain::SessionChange,
    ) -> RepoResult<Committed<ChatSession>> {
        self.with(|s| {
            let sess = session_mut(&mut s.sessions, tenant, id)?;
            if sess.status != expected {
                return Err(RepoError::Conflict("stale_state".into()));
            }
            let now = chrono::Utc::now();
            sess.status = status;
            sess.assigned_agent = assigned;
            sess.last_activity_at = now;
            sess.queued_at = (matches!(change, chat_domain::SessionChange::Reopened)
                && status == SessionStatus::Pending)
                .then_some(now);
            Ok(Committed::new(sess.clone()))
        })
    }

    async fn advance_receipt(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        side: ReceiptSide,
        update: ReceiptUpdate,
    ) -> RepoResult<Option<Committed<ReceiptChange>>> {
        self.with(|s| {
            let messages = &s.messages;
            let sess = session_mut(&mut s.sessions, tenant, id)?;
            let update = update.capped(sess.last_seq);
            let r = &mut sess.receipts;
            let (delivered, read) = match side {
                ReceiptSide::Customer => (&mut r.customer_delivered_seq, &mut r.customer_read_seq),
                ReceiptSide::Agent => (&mut r.agent_delivered_seq, &mut r.agent_read_seq),
            };
            if update.delivered <= *delivered && update.read <= *read {
                return Ok(None);
            }
            let old_delivered = *delivered;
            *delivered = (*delivered).max(update.delivered);
            *read = (*read).max(update.read);
            let (delivered, read) = (*delivered, *read);
            if side == ReceiptSide::Agent {
                sess.unread_count = messages
                    .iter()
                    .filter(|m| {
                        &m.session_id == id && m.sender_type == SenderType::Customer && m.seq > read
                    })
                    .count() as i64;
            }
            let newly_delivered = messages
                .iter()
                .filter(|m| {
                    &m.session_id == id
                        && m.seq > old_delivered
                        && m.seq <= delivered
                        && side.receives(m.sender_type)
                })
                .map(|m| m.created_at)
                .collect();
            Ok(Some(Committed::new(ReceiptChange {
                tenant_id: tenant.clone(),
                session_id: id.clone(),
                side,
                delivered_seq: delivered,
                read_seq: read,
                unread_count: sess.unread_count,
                newly_delivered,
            })))
        })
    }

    async fn find_visitor(
        &self,
        tenant: &TenantId,
        token_hash: &SessionKeyHash,
        seen_after: Timestamp,
    ) -> RepoResult<Option<CustomerId>> {
        Ok(self.with(|s| {
            s.visitors
                .iter()
                .find(|(t, h, _, seen)| t == tenant && h == token_hash && *seen >= seen_after)
                .map(|(_, _, c, _)| c.id.clone())
        }))
    }

    async fn rate(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        score: u8,
        comment: Option<String>,
    ) -> RepoResult<Committed<ChatSession>> {
        self.with(|s| {
            let sess = session_mut(&mut s.sessions, tenant, id)?;
            if sess.rating.is_some() {
                return Err(RepoError::Conflict("rated".into()));
            }
            if sess.status != SessionStatus::Closed {
                return Err(RepoError::Conflict("not_closed".into()));
            }
            sess.rating = Some(chat_domain::widget::Rating {
                score,
                comment,
                rated_at: chrono::Utc::now(),
            });
            Ok(Committed::new(sess.clone()))
        })
    }

    async fn erase_session(&self, tenant: &TenantId, id: &SessionId) -> RepoResult<Vec<String>> {
        self.with(|s| {
            let before = s.sessions.len();
            s.sessions
                .retain(|(c, _)| !(&c.tenant_id == tenant && &c.id == id));
            if s.sessions.len() == before {
                return Err(RepoError::NotFound);
            }
            s.messages.retain(|m| &m.session_id != id);
            s.notes.retain(|n| &n.session_id != id);
            let keys = s
                .attachments
                .iter()
                .filter(|a| &a.session_id == id)
                .map(|a| a.storage_key.clone())
                .collect();
            s.attachments.retain(|a| &a.session_id != id);
            Ok(keys)
        })
    }

    async fn erase_customer(
        &self,
        tenant: &TenantId,
        id: &chat_domain::CustomerId,
    ) -> RepoResult<Vec<String>> {
        let sessions: Vec<SessionId> = self.with(|s| {
            s.sessions
                .iter()
                .filter(|(c, _)| &c.tenant_id == tenant && &c.customer.id == id)
                .map(|(c, _)| c.id.clone())
                .collect()
        });
        if sessions.is_empty() {
            return Err(RepoError::NotFound);
        }
        let mut keys = Vec::new();
        for sid in &sessions {
            keys.extend(self.erase_session(tenant, sid).await?);
        }
        Ok(keys)
    }

    async fn mark_handed_off(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        _reason: &'static str,
    ) -> RepoResult<bool> {
        self.with(|s| {
            let sess = session_mut(&mut s.sessions, tenant, id)?;
            let changed = !sess.bot_handed_off;
            sess.bot_handed_off = true;
            if changed {
                sess.queued_at = Some(chrono::Utc::now());
            }
            Ok(changed)
        })
    }
}

#[async_trait]
impl MessageRepository for InMemoryStore {
    async fn append(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: NewMessage,
    ) -> RepoResult<AppendOutcome> {
        self.with(|s| {
            let sess = session_mut(&mut s.sessions, tenant, session)?;
            let retried = new.client_msg_id.as_ref().and_then(|cid| {
                s.messages
                    .iter()
                    .find(|m| &m.session_id == session && m.client_msg_id.as_ref() == Some(cid))
            });
            if let Some(m) = retried {
                return Ok(AppendOutcome::Existing(m.clone()));
            }
            if !sess.accepts_messages() {
                return Err(RepoError::Conflict("session_closed".into()));
            }
            let message_id = MessageId::new(new_id());
            let free = |a: &&mut chat_domain::Attachment| {
                &a.session_id == session && a.message_id.is_none() && a.uploader == new.sender_type
            };
            let mut files = Vec::new();
            for id in &new.attachment_ids {
                match s.attachments.iter_mut().filter(free).find(|a| &a.id == id) {
                    Some(a) => files.push(a.id.clone()),
                    None => return Err(RepoError::Conflict("attachment".into())),
                }
            }
            let mut attachments = Vec::new();
            for id in &files {
                if let Some(a) = s.attachments.iter_mut().find(|a| &a.id == id) {
                    a.message_id = Some(message_id.clone());
                    attachments.push(a.clone());
                }
            }
            let sess = session_mut(&mut s.sessions, tenant, session)?;
            let now = chrono::Utc::now();
            sess.last_seq += 1;
            sess.last_activity_at = now;
            sess.last_message_preview = Some(preview(new.body.as_str()));
            if new.sender_type == SenderType::Customer {
                sess.unread_count += 1;
            }
            let message = Message {
                id: message_id,
                tenant_id: tenant.clone(),
                session_id: session.clone(),
                seq: sess.last_seq,
                sender_type: new.sender_type,
                sender_id: new.sender_id,
                sender_name: new.sender_name,
                body: new.body.into_string(),
                client_msg_id: new.client_msg_id,
                created_at: now,
                attachments,
            };
            s.messages.push(message.clone());
            Ok(AppendOutcome::Created(message))
        })
    }

    async fn list(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        after_seq: i64,
        limit: u64,
    ) -> RepoResult<Vec<Message>> {
        Ok(self.with(|s| {
            s.messages
                .iter()
                .filter(|m| &m.tenant_id == tenant && &m.session_id == session && m.seq > after_seq)
                .take(usize::try_from(limit).unwrap_or(usize::MAX))
                .cloned()
                .collect()
        }))
    }

    async fn count_by_sender(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        sender: SenderType,
    ) -> RepoResult<u64> {
        Ok(self.with(|s| {
            s.messages
                .iter()
                .filter(|m| {
                    &m.tenant_id == tenant && &m.session_id == session && m.sender_type == sender
                })
                .count() as u64
        }))
    }

    async fn search(&self, tenant: &TenantId, search: &MessageSearch) -> RepoResult<SearchPage> {
        Ok(self.with(|s| {
            let limit = usize::try_from(search.limit.clamp(1, 100)).unwrap_or(100);
            let mut hits: Vec<MessageHit> = s
                .messages
                .iter()
                .rev()
                .filter(|m| &m.tenant_id == tenant && body_matches(&m.body, &search.query))
                .filter(|m| search.from.is_none_or(|f| m.created_at >= f))
                .filter(|m| search.to.is_none_or(|t| m.created_at < t))
                .filter_map(|m| {
                    let (sess, _) = s.sessions.iter().find(|(x, _)| x.id == m.session_id)?;
                    let filter = SessionFilter {
                        status: search.status,
                        assignee: search.assignee,
                        agent_id: search.agent_id.clone(),
                        query: None,
                        message_query: None,
                        label: None,
                        customer_id: None,
                        limit: 1,
                    };
                    matches(sess, &[], &filter).then(|| MessageHit {
                        message: m.clone(),
                        session: sess.clone(),
                    })
                })
                .collect();
            hits.truncate(limit);
            SearchPage {
                hits,
                next_cursor: None,
            }
        }))
    }

    async fn list_before(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        before_seq: i64,
        limit: u64,
    ) -> RepoResult<Vec<Message>> {
        Ok(self.with(|s| {
            let older: Vec<Message> = s
                .messages
                .iter()
                .filter(|m| {
                    &m.tenant_id == tenant && &m.session_id == session && m.seq < before_seq
                })
                .cloned()
                .collect();
            let skip = older
                .len()
                .saturating_sub(usize::try_from(limit).unwrap_or(usize::MAX));
            older.into_iter().skip(skip).collect()
        }))
    }
}

#[async_trait]
impl HealthCheck for InMemoryStore {
    async fn ping(&self) -> RepoResult<()> {
        Ok(())
    }
}

#[async_trait]
impl chat_domain::repo::DeskRepository for InMemoryStore {
    async fn canned_list(&self, tenant: &TenantId) -> RepoResult<Vec<chat_domain::CannedReply>> {
        Ok(self.with(|s| {
            let mut v: Vec<_> = s
                .canned
                .iter()
                .filter(|c| &c.tenant_id == tenant)
                .cloned()
                .collect();
            v.sort_by(|a, b| a.shortcut.as_str().cmp(b.shortcut.as_str()));
            v
        }))
    }

    async fn canned_create(
        &self,
        tenant: &TenantId,
        input: chat_domain::CannedInput,
    ) -> RepoResult<chat_domain::CannedReply> {
        self.with(|s| {
            if s.canned
                .iter()
                .any(|c| &c.tenant_id == tenant && c.shortcut == input.shortcut)
            {
                return Err(RepoError::Conflict("shortcut".into()));
            }
            let c = chat_domain::CannedReply {
                id: new_id(),
                tenant_id: tenant.clone(),
                shortcut: input.shortcut,
                title: input.title,
                body: input.body,
                updated_at: chrono::Utc::now(),
            };
            s.canned.push(c.clone());
            Ok(c)
        })
    }

    async fn canned_update(
        &self,
        tenant: &TenantId,
        id: &str,
        input: chat_domain::CannedInput,
    ) -> RepoResult<chat_domain::CannedReply> {
        self.with(|s| {
            if s.canned
                .iter()
                .any(|c| &c.tenant_id == tenant && c.id != id && c.shortcut == input.shortcut)
            {
                return Err(RepoError::Conflict("shortcut".into()));
            }
            let c = s
                .canned
                .iter_mut()
                .find(|c| &c.tenant_id == tenant && c.id == id)
                .ok_or(RepoError::NotFound)?;
            c.shortcut = input.shortcut;
            c.title = input.title;
            c.body = input.body;
            c.updated_at = chrono::Utc::now();
            Ok(c.clone())
        })
    }

    async fn canned_delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool> {
        Ok(self.with(|s| {
            let before = s.canned.len();
            s.canned.retain(|c| !(&c.tenant_id == tenant && c.id == id));
            s.canned.len() != before
        }))
    }

    async fn labels(&self, tenant: &TenantId) -> RepoResult<Vec<chat_domain::Label>> {
        Ok(self.with(|s| {
            let mut v: Vec<_> = s
                .labels
                .iter()
                .filter(|l| &l.tenant_id == tenant)
                .cloned()
                .collect();
            v.sort_by(|a, b| a.name.cmp(&b.name));
            v
        }))
    }

    async fn label_create(
        &self,
        tenant: &TenantId,
        name: chat_domain::LabelName,
        color: chat_domain::Color,
    ) -> RepoResult<chat_domain::Label> {
        self.with(|s| {
            if s.labels
                .iter()
                .any(|l| &l.tenant_id == tenant && l.name == name)
            {
                return Err(RepoError::Conflict("label".into()));
            }
            let l = chat_domain::Label {
                id: new_id(),
                tenant_id: tenant.clone(),
                name,
                color,
                created_at: chrono::Utc::now(),
            };
            s.labels.push(l.clone());
            Ok(l)
        })
    }

    async fn set_session_labels(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        labels: &[chat_domain::LabelName],
    ) -> RepoResult<Committed<ChatSession>> {
        self.with(|s| {
            let known = labels.iter().all(|n| {
                s.labels
                    .iter()
                    .any(|l| &l.tenant_id == tenant && &l.name == n)
            });
            let sess = session_mut(&mut s.sessions, tenant, session)?;
            if !known {
                return Err(RepoError::Conflict("unknown_label".into()));
            }
            let mut names: Vec<String> = labels.iter().map(|l| l.as_str().to_owned()).collect();
            names.sort();
            names.dedup();
            sess.labels = names;
            Ok(Committed::new(sess.clone()))
        })
    }

    async fn add_note(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: chat_domain::NewNote,
    ) -> RepoResult<Committed<chat_domain::Note>> {
        self.with(|s| {
            let after_seq = session_mut(&mut s.sessions, tenant, session)?.last_seq;
            let note = chat_domain::Note {
                id: new_id(),
                tenant_id: tenant.clone(),
                session_id: session.clone(),
                after_seq,
                author_id: new.author_id,
                author_name: new.author_name,
                body: new.body.into_string(),
                created_at: chrono::Utc::now(),
            };
            s.notes.push(note.clone());
            Ok(Committed::new(note))
        })
    }

    async fn notes(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        from_seq: i64,
    ) -> RepoResult<Vec<chat_domain::Note>> {
        Ok(self.with(|s| {
            s.notes
                .iter()
                .filter(|n| {
                    &n.tenant_id == tenant && &n.session_id == session && n.after_seq >= from_seq
                })
                .cloned()
                .collect()
        }))
    }
}

#[async_trait]
impl chat_domain::repo::AssignmentRepository for InMemoryStore {
    async fn queue(&self, tenant: &TenantId, limit: u64) -> RepoResult<Vec<ChatSession>> {
        Ok(self.with(|s| {
            let mut v: Vec<ChatSession> = s
                .sessions
                .iter()
                .map(|(c, _)| c)
                .filter(|c| {
                    &c.tenant_id == tenant
                        && c.status == SessionStatus::Pending
                        && c.queued_at.is_some()
                })
                .cloned()
                .collect();
            v.sort_by(|a, b| (a.queued_at, a.id.as_str()).cmp(&(b.queued_at, b.id.as_str())));
            v.truncate(limit as usize);
            v
        }))
    }

    async fn open_counts(
        &self,
        tenant: &TenantId,
    ) -> RepoResult<std::collections::HashMap<chat_domain::AgentId, u32>> {
        Ok(self.with(|s| {
            let mut counts = std::collections::HashMap::new();
            for (c, _) in &s.sessions {
                if &c.tenant_id == tenant
                    && c.status == SessionStatus::Open
                    && let Some(a) = &c.assigned_agent
                {
                    *counts.entry(a.id.clone()).or_insert(0) += 1;
                }
            }
            counts
        }))
    }

    async fn try_assign(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        agent: &AgentRef,
        capacity: u32,
    ) -> RepoResult<chat_domain::AssignAttempt> {
        use chat_domain::AssignAttempt;
        self.with(|s| {
            let open = s
                .sessions
                .iter()
                .filter(|(c, _)| {
                    c.status == SessionStatus::Open
                        && c.assigned_agent.as_ref().is_some_and(|a| a.id == agent.id)
                })
                .count() as u32;
            let Some((who, _)) = s
                .agents
                .iter_mut()
                .find(|(a, _)| &a.tenant_id == tenant && a.id == agent.id)
            else {
                return Ok(AssignAttempt::AgentFull);
            };
            if !who.active || !who.status.takes_conversations() || open >= capacity {
                return Ok(AssignAttempt::AgentFull);
            }
            let Ok(sess) = session_mut(&mut s.sessions, tenant, session) else {
                return Ok(AssignAttempt::SessionTaken);
            };
            if sess.status != SessionStatus::Pending {
                return Ok(AssignAttempt::SessionTaken);
            }
            let now = chrono::Utc::now();
            who.last_assigned_at = Some(now);
            sess.status = SessionStatus::Open;
            sess.assigned_agent = Some(agent.clone());
            sess.queued_at = None;
            sess.last_activity_at = now;
            Ok(AssignAttempt::Assigned(Box::new(Committed::new(
                sess.clone(),
            ))))
        })
    }

    async fn queue_bot_sessions(&self, tenant: &TenantId) -> RepoResult<u64> {
        Ok(self.with(|s| {
            let mut n = 0;
            for (c, _) in s.sessions.iter_mut() {
                if &c.tenant_id == tenant
                    && c.status == SessionStatus::Pending
                    && c.queued_at.is_none()
                {
                    c.queued_at = Some(c.created_at);
                    n += 1;
                }
            }
            n
        }))
    }
}

#[async_trait]
impl chat_domain::attachment::AttachmentRepository for InMemoryStore {
    async fn create_attachment(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: chat_domain::NewAttachment,
    ) -> RepoResult<chat_domain::Attachment> {
        let a = chat_domain::Attachment {
            id: new.id,
            tenant_id: tenant.clone(),
            session_id: session.clone(),
            message_id: None,
            uploader: new.uploader,
            name: new.name,
            content_type: new.content_type,
            size: new.size,
            width: new.width,
            height: new.height,
            token: new.token,
            storage_key: new.storage_key,
            created_at: chrono::Utc::now(),
        };
        self.with(|s| s.attachments.push(a.clone()));
        Ok(a)
    }

    async fn session_usage(
        &self,
        tenant: &TenantId,
        session: &SessionId,
    ) -> RepoResult<(u64, u64)> {
        Ok(self.with(|s| {
            s.attachments
                .iter()
                .filter(|a| &a.tenant_id == tenant && &a.session_id == session)
                .fold((0, 0), |(n, b), a| (n + 1, b + a.size))
        }))
    }

    async fn attachment_by_token(
        &self,
        token: &str,
    ) -> RepoResult<Option<chat_domain::Attachment>> {
        Ok(self.with(|s| s.attachments.iter().find(|a| a.token == token).cloned()))
    }

    async fn attachment(
        &self,
        tenant: &TenantId,
        id: &chat_domain::AttachmentId,
    ) -> RepoResult<Option<chat_domain::Attachment>> {
        Ok(self.with(|s| {
            s.attachments
                .iter()
                .find(|a| &a.tenant_id == tenant && &a.id == id)
                .cloned()
        }))
    }

    async fn session_attachments(
        &self,
        tenant: &TenantId,
        session: &SessionId,
    ) -> RepoResult<Vec<chat_domain::Attachment>> {
        Ok(self.with(|s| {
            s.attachments
                .iter()
                .filter(|a| {
                    &a.tenant_id == tenant && &a.session_id == session && a.message_id.is_some()
                })
                .cloned()
                .collect()
        }))
    }

    async fn unsent_before(
        &self,
        before: chat_domain::Timestamp,
        limit: u64,
    ) -> RepoResult<Vec<chat_domain::Attachment>> {
        Ok(self.with(|s| {
            s.attachments
                .iter()
                .filter(|a| a.message_id.is_none() && a.created_at < before)
                .take(limit as usize)
                .cloned()
                .collect()
        }))
    }

    async fn delete_attachment(&self, id: &chat_domain::AttachmentId) -> RepoResult<()> {
        self.with(|s| {
            s.attachments
                .retain(|a| &a.id != id || a.message_id.is_some())
        });
        Ok(())
    }
}

/// Counts only: the in-memory store keeps no response or close times, so
/// its reports carry no durations (the real figures are the database's).
#[async_trait]
impl chat_domain::repo::ReportRepository for InMemoryStore {
    async fn summary(
        &self,
        tenant: &TenantId,
        query: &chat_domain::ReportQuery,
    ) -> RepoResult<chat_domain::Report> {
        use chat_domain::report::{AgentFigures, DayFigures, Figures};
        let (start, end) = (query.period.start(), query.period.end());
        self.with(|s| {
            let picked: Vec<&ChatSession> = s
                .sessions
                .iter()
                .map(|(sess, _)| sess)
                .filter(|sess| &sess.tenant_id == tenant)
                .filter(|sess| sess.created_at >= start && sess.created_at < end)
                .filter(|sess| {
                    query
                        .agent
                        .as_ref()
                        .is_none_or(|a| sess.assigned_agent.as_ref().map(|x| &x.id) == Some(a))
                })
                .collect();
            let figures = |list: &[&ChatSession]| {
                let ratings: Vec<u8> = list
                    .iter()
                    .filter_map(|x| x.rating.as_ref().map(|r| r.score))
                    .collect();
                Figures {
                    conversations: list.len() as u64,
                    handed_off: list.iter().filter(|x| x.bot_handed_off).count() as u64,
                    assigned: list.iter().filter(|x| x.assigned_agent.is_some()).count() as u64,
                    rating_average: (!ratings.is_empty()).then(|| {
                        ratings.iter().map(|r| f64::from(*r)).sum::<f64>() / ratings.len() as f64
                    }),
                    rating_count: ratings.len() as u64,
                    ..Figures::default()
                }
            };
            let mut agents: Vec<chat_domain::AgentId> = picked
                .iter()
                .filter_map(|x| x.assigned_agent.as_ref().map(|a| a.id.clone()))
                .collect();
            agents.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            agents.dedup();
            let zone = query.period.zone.tz();
            Ok(chat_domain::Report {
                period: query.period,
                totals: figures(&picked),
                agents: agents
                    .into_iter()
                    .map(|agent_id| {
                        let mine: Vec<&ChatSession> = picked
                            .iter()
                            .copied()
                            .filter(|x| x.assigned_agent.as_ref().map(|a| &a.id) == Some(&agent_id))
                            .collect();
                        AgentFigures {
                            figures: figures(&mine),
                            agent_id,
                        }
                    })
                    .collect(),
                days: query
                    .period
                    .days()
                    .into_iter()
                    .map(|date| {
                        let that_day: Vec<&ChatSession> = picked
                            .iter()
                            .copied()
                            .filter(|x| x.created_at.with_timezone(&zone).date_naive() == date)
                            .collect();
                        DayFigures {
                            date,
                            figures: figures(&that_day),
                        }
                    })
                    .collect(),
            })
        })
    }
}

/// The outbox as a list: queued emails are kept (deduplicated by key) so
/// that service tests can see what was decided; nothing is scanned or
/// sent here.
#[async_trait]
impl chat_domain::repo::EmailRepository for InMemoryStore {
    async fn enqueue(
        &self,
        tenant: &TenantId,
        new: chat_domain::email::NewEmail,
    ) -> RepoResult<bool> {
        Ok(self.with(|s| {
            if s.emails
                .iter()
                .any(|(_, e, _)| e.dedupe_key == new.dedupe_key)
            {
                return false;
            }
            s.emails.push((tenant.clone(), new, "pending"));
            true
        }))
    }

    async fn unseen_due(
        &self,
        _since: Timestamp,
        _until: Timestamp,
        _limit: u64,
    ) -> RepoResult<Vec<chat_domain::email::UnseenDue>> {
        Ok(Vec::new())
    }

    async fn queue_unseen(&self, _due: &chat_domain::email::UnseenDue) -> RepoResult<bool> {
        Ok(false)
    }

    async fn claim_emails(
        &self,
        _now: Timestamp,
        _limit: u64,
        _lease: std::time::Duration,
    ) -> RepoResult<Vec<chat_domain::email::ClaimedEmail>> {
        Ok(Vec::new())
    }

    async fn record_email(
        &self,
        _id: &str,
        _now: Timestamp,
        _outcome: chat_domain::email::EmailOutcome,
    ) -> RepoResult<()> {
        Ok(())
    }

    async fn customer_address(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> RepoResult<Option<chat_domain::Email>> {
        Ok(self.with(|s| {
            if s.unsubscribed.contains(customer) {
                return None;
            }
            s.sessions
                .iter()
                .map(|(sess, _)| sess)
                .find(|sess| &sess.tenant_id == tenant && &sess.customer.id == customer)
                .and_then(|sess| sess.customer.email.clone())
        }))
    }

    async fn unsubscribe(&self, customer: &CustomerId) -> RepoResult<bool> {
        Ok(self.with(|s| {
            let known = s
                .sessions
                .iter()
                .any(|(sess, _)| &sess.customer.id == customer);
            if known && !s.unsubscribed.contains(customer) {
                s.unsubscribed.push(customer.clone());
            }
            known
        }))
    }

    async fn email_when_offline(
        &self,
        _tenant: &TenantId,
        _agent: &chat_domain::AgentId,
    ) -> RepoResult<bool> {
        Ok(true)
    }

    async fn set_email_when_offline(
        &self,
        _tenant: &TenantId,
        _agent: &chat_domain::AgentId,
        _on: bool,
    ) -> RepoResult<bool> {
        Ok(true)
    }

    async fn shared_secret(&self, name: &str, fresh: String) -> RepoResult<String> {
        Ok(self.with(|s| s.secrets.entry(name.to_owned()).or_insert(fresh).clone()))
    }

    async fn rekey_session(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        key_hash: SessionKeyHash,
    ) -> RepoResult<bool> {
        Ok(self.with(|s| {
            match s
                .sessions
                .iter_mut()
                .find(|(sess, _)| &sess.tenant_id == tenant && &sess.id == id)
            {
                Some((_, k)) => {
                    *k = key_hash;
                    true
                }
                None => false,
            }
        }))
    }
}
