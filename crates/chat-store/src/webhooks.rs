//! Webhook endpoints, and the outbox of their deliveries.
//!
//! A change that an endpoint subscribed to writes its deliveries in the
//! transaction of the change itself ([`SeaOrmStore::record_event`]), so a
//! committed change always has its deliveries and a rolled-back one never
//! does. Senders claim due deliveries with a lease: a conditional update
//! that only one of several racing senders (or nodes) wins.

use std::time::Duration;

use async_trait::async_trait;
use chat_domain::repo::WebhookRepository;
use chat_domain::{
    AttemptOutcome, ChatEvent, ClaimedDelivery, Delivery, DeliveryStatus, NewWebhookEndpoint,
    RepoError, RepoResult, TenantId, Timestamp, WebhookEndpoint, WebhookPatch, WebhookRenderer,
    WebhookUrl,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::convert::{corrupt, from_micros, new_id, now_micros, to_micros};
use crate::entity::{webhook_delivery, webhook_endpoint};
use crate::{SeaOrmStore, map_err};

fn endpoint(m: webhook_endpoint::Model) -> RepoResult<WebhookEndpoint> {
    let events: Vec<String> =
        serde_json::from_str(&m.events).map_err(|_| corrupt("events", &m.events))?;
    Ok(WebhookEndpoint {
        url: WebhookUrl::parse(&m.url).map_err(|_| corrupt("url", &m.url))?,
        id: m.id,
        tenant_id: TenantId::new(m.tenant_id),
        events,
        active: m.active,
        created_at: from_micros(m.created_at)?,
        updated_at: from_micros(m.updated_at)?,
    })
}

fn delivery(m: webhook_delivery::Model) -> RepoResult<Delivery> {
    Ok(Delivery {
        status: DeliveryStatus::parse(&m.status).ok_or_else(|| corrupt("status", &m.status))?,
        attempts: u32::try_from(m.attempts).unwrap_or(0),
        next_attempt_at: from_micros(m.next_attempt_at)?,
        last_status: m.last_status.and_then(|s| u16::try_from(s).ok()),
        created_at: from_micros(m.created_at)?,
        delivered_at: m.delivered_at.map(from_micros).transpose()?,
        id: m.id,
        endpoint_id: m.endpoint_id,
        tenant_id: TenantId::new(m.tenant_id),
        event_id: m.event_id,
        event_type: m.event_type,
        payload: m.payload,
        last_error: m.last_error,
    })
}

/// Whether an endpoint's stored event list names `event_type`.
fn subscribed(events: &str, event_type: &str) -> RepoResult<bool> {
    let events: Vec<String> =
        serde_json::from_str(events).map_err(|_| corrupt("events", events))?;
    Ok(events.iter().any(|e| e == event_type))
}

/// The deliveries a change makes: one pending delivery, with the one
/// rendered body, for each of the endpoints (`(id, stored event list)`)
/// that subscribed to its event; none when no endpoint did.
pub(crate) fn new_deliveries(
    renderer: &dyn WebhookRenderer,
    tenant: &TenantId,
    event: &ChatEvent,
    endpoints: impl IntoIterator<Item = (String, String)>,
) -> RepoResult<Vec<webhook_delivery::Model>> {
    let event_type = event.event_type();
    let mut wanting = Vec::new();
    for (id, events) in endpoints {
        if subscribed(&events, event_type)? {
            wanting.push(id);
        }
    }
    if wanting.is_empty() {
        return Ok(Vec::new());
    }
    let event_id = new_id();
    let now = chrono::Utc::now();
    let payload = renderer.body(&event_id, tenant, now, event);
    let at = to_micros(now);
    Ok(wanting
        .into_iter()
        .map(|endpoint_id| webhook_delivery::Model {
            id: new_id(),
            tenant_id: tenant.as_str().to_owned(),
            endpoint_id,
            event_id: event_id.clone(),
            event_type: event_type.to_owned(),
            payload: payload.clone(),
            status: DeliveryStatus::Pending.as_str().to_owned(),
            attempts: 0,
            next_attempt_at: at,
            lease_until: 0,
            last_status: None,
            last_error: None,
            created_at: at,
            updated_at: at,
            delivered_at: None,
        })
        .collect())
}

fn to_json(events: &[String]) -> RepoResult<String> {
    serde_json::to_string(events).map_err(|e| RepoError::Other(e.to_string()))
}

impl SeaOrmStore {
    /// Writes the deliveries of a stored change, on the connection (the
    /// transaction) that wrote the change.
    pub(crate) async fn record_event<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant: &TenantId,
        event: &ChatEvent,
    ) -> RepoResult<()> {
        let Some(renderer) = self.inner.webhooks.get() else {
            return Ok(());
        };
        let endpoints = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::TenantId.eq(tenant.as_str()))
            .filter(webhook_endpoint::Column::Active.eq(true))
            .all(conn)
            .await
            .map_err(map_err)?;
        let rows = new_deliveries(
            renderer.as_ref(),
            tenant,
            event,
            endpoints.into_iter().map(|m| (m.id, m.events)),
        )?;
        if rows.is_empty() {
            return Ok(());
        }
        webhook_delivery::Entity::insert_many(
            rows.into_iter().map(webhook_delivery::ActiveModel::from),
        )
        .exec_without_returning(conn)
        .await
        .map_err(map_err)?;
        Ok(())
    }
}

#[async_trait]
impl WebhookRepository for SeaOrmStore {
    async fn create(
        &self,
        tenant: &TenantId,
        new: NewWebhookEndpoint,
    ) -> RepoResult<WebhookEndpoint> {
        let now = now_micros();
        let model = webhook_endpoint::Model {
            id: new_id(),
            tenant_id: tenant.as_str().to_owned(),
            url: new.url.as_str().to_owned(),
            events: to_json(&new.events)?,
            active: new.active,
            secret: new.secret,
            created_at: now,
            updated_at: now,
        };
        webhook_endpoint::Entity::insert(webhook_endpoint::ActiveModel::from(model.clone()))
            .exec_without_returning(self.db()?)
            .await
            .map_err(map_err)?;
        endpoint(model)
    }

    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<WebhookEndpoint>> {
        webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::TenantId.eq(tenant.as_str()))
            .order_by_asc(webhook_endpoint::Column::CreatedAt)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(endpoint)
            .collect()
    }

    async fn find(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<WebhookEndpoint>> {
        webhook_endpoint::Entity::find_by_id(id)
            .filter(webhook_endpoint::Column::TenantId.eq(tenant.as_str()))
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .map(endpoint)
            .transpose()
    }

    async fn update(
        &self,
        tenant: &TenantId,
        id: &str,
        patch: WebhookPatch,
    ) -> RepoResult<WebhookEndpoint> {
        let mut model = webhook_endpoint::ActiveModel {
            updated_at: Set(now_micros()),
            ..Default::default()
        };
        if let Some(url) = patch.url {
            model.url = Set(url.as_str().to_owned());
        }
        if let Some(events) = patch.events {
            model.events = Set(to_json(&events)?);
        }
        if let Some(active) = patch.active {
            model.active = Set(active);
        }
        let res = webhook_endpoint::Entity::update_many()
            .set(model)
            .filter(webhook_endpoint::Column::Id.eq(id))
            .filter(webhook_endpoint::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        if res.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        WebhookRepository::find(self, tenant, id)
            .await?
            .ok_or(RepoError::NotFound)
    }

    async fn delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool> {
        // Deliveries go with their endpoint (a cascading foreign key; and
        // explicitly, for SQLite connections without foreign keys).
        webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::EndpointId.eq(id))
            .filter(webhook_delivery::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        let res = webhook_endpoint::Entity::delete_many()
            .filter(webhook_endpoint::Column::Id.eq(id))
            .filter(webhook_endpoint::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn deliveries(
        &self,
        tenant: &TenantId,
        endpoint: &str,
        limit: u64,
    ) -> RepoResult<Vec<Delivery>> {
        webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::EndpointId.eq(endpoint))
            .filter(webhook_delivery::Column::TenantId.eq(tenant.as_str()))
            .order_by_desc(webhook_delivery::Column::CreatedAt)
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(limit)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(delivery)
            .collect()
    }

    async fn redeliver(&self, tenant: &TenantId, endpoint: &str, id: &str) -> RepoResult<Delivery> {
        let now = now_micros();
        let res = webhook_delivery::Entity::update_many()
            .set(webhook_delivery::ActiveModel {
                status: Set(DeliveryStatus::Pending.as_str().to_owned()),
                next_attempt_at: Set(now),
                // A manual redelivery gets a fresh retry window.
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(webhook_delivery::Column::Id.eq(id))
            .filter(webhook_delivery::Column::EndpointId.eq(endpoint))
            .filter(webhook_delivery::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        if res.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        webhook_delivery::Entity::find_by_id(id)
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .ok_or(RepoError::NotFound)
            .and_then(delivery)
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        limit: u64,
        lease: Duration,
    ) -> RepoResult<Vec<ClaimedDelivery>> {
        let now = to_micros(now);
        let lease_until = now + i64::try_from(lease.as_micros()).unwrap_or(i64::MAX / 2);
        let due = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .filter(webhook_delivery::Column::LeaseUntil.lt(now))
            .order_by_asc(webhook_delivery::Column::NextAttemptAt)
            .limit(limit)
            .all(self.db()?)
            .await
            .map_err(map_err)?;
        let mut claimed = Vec::with_capacity(due.len());
        for m in due {
            // Only the sender whose update still sees the old lease wins.
            let won = webhook_delivery::Entity::update_many()
                .set(webhook_delivery::ActiveModel {
                    lease_until: Set(lease_until),
                    ..Default::default()
                })
                .filter(webhook_delivery::Column::Id.eq(m.id.as_str()))
                .filter(webhook_delivery::Column::LeaseUntil.eq(m.lease_until))
                .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
                .exec(self.db()?)
                .await
                .map_err(map_err)?
                .rows_affected
                == 1;
            if !won {
                continue;
            }
            let Some(target) = webhook_endpoint::Entity::find_by_id(m.endpoint_id.as_str())
                .one(self.db()?)
                .await
                .map_err(map_err)?
            else {
                continue;
            };
            claimed.push(ClaimedDelivery {
                delivery: delivery(m)?,
                url: target.url,
                secret: target.secret,
            });
        }
        Ok(claimed)
    }

    async fn record_attempt(
        &self,
        id: &str,
        now: Timestamp,
        outcome: AttemptOutcome,
    ) -> RepoResult<()> {
        let now = to_micros(now);
        let Some(current) = webhook_delivery::Entity::find_by_id(id)
            .one(self.db()?)
            .await
            .map_err(map_err)?
        else {
            return Ok(());
        };
        let mut model = webhook_delivery::ActiveModel {
            attempts: Set(current.attempts.saturating_add(1)),
            lease_until: Set(0),
            updated_at: Set(now),
            ..Default::default()
        };
        match outcome {
            AttemptOutcome::Delivered { status } => {
                model.status = Set(DeliveryStatus::Delivered.as_str().to_owned());
                model.last_status = Set(Some(i32::from(status)));
                model.last_error = Set(None);
                model.delivered_at = Set(Some(now));
            }
            AttemptOutcome::Failed {
                status,
                error,
                retry_at,
            } => {
                model.last_status = Set(status.map(i32::from));
                model.last_error = Set(Some(error.chars().take(500).collect()));
                match retry_at {
                    Some(at) => model.next_attempt_at = Set(to_micros(at)),
                    None => model.status = Set(DeliveryStatus::Failed.as_str().to_owned()),
                }
            }
        }
        webhook_delivery::Entity::update_many()
            .set(model)
            .filter(webhook_delivery::Column::Id.eq(id))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
