//! The upgrade handlers. Every check (credential, session key, origin,
//! connection caps) happens before the upgrade, so a refused client gets a
//! plain HTTP error with a JSON body.

use std::cell::RefCell;
use std::rc::Rc;

use actix_web::body::BoxBody;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use tokio::sync::oneshot;
use tracing::Instrument;

use super::conn::{Conn, Who};
use super::framing;
use super::outgoing::{Delivered, Outgoing};
use crate::AppState;
use crate::error::{ApiError, ApiResult, session_key};
use crate::extract::bearer_token;
use crate::hub::{Peer, RegisterError, Registration, local};
use crate::wire::TicketQuery;

/// What a client refused during shutdown is told to wait before it
/// reconnects (to another node, or this one restarted).
const SHUTDOWN_RETRY_AFTER_SECS: u64 = 2;

/// One scope, so that every other request pays one comparison with its
/// static prefix for these routes, not a regular expression.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/ws")
            .route("", web::get().to(agent_ws))
            .route("/public/{session_key}", web::get().to(customer_ws)),
    );
}

async fn agent_ws(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    query: web::Query<TicketQuery>,
) -> ApiResult<HttpResponse> {
    let ctx = match (bearer_token(&req), query.ticket.as_deref()) {
        (Some(token), _) => state.auth.authenticate(token).await?,
        (None, Some(ticket)) => state.auth.redeem_ws_ticket(ticket).await?,
        (None, None) => {
            return Err(ApiError::unauthorized(
                "an Authorization: Bearer header or a ?ticket= is required",
            ));
        }
    };
    // API tokens are for the REST API; a socket needs a person signed in.
    ctx.require_login()?;
    let peer = Peer::Agent {
        tenant: ctx.tenant_id().clone(),
        agent: ctx.agent.id.clone(),
        name: ctx.agent.name.clone(),
        credential: ctx.credential.clone(),
        status: ctx.agent.status,
    };
    let address = state.client_address(&req);
    let who = Who::Agent(ctx);
    upgrade(&req, body, state, peer, who, address).await
}

async fn customer_ws(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let address = state.client_address(&req);
    state.limit_public_read(address).await?;
    let session = state.chat.customer_session(&session_key(&key)?).await?;
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        let tenant = state.chat.tenant(&session.tenant_id).await?;
        if !tenant.allows_origin(origin) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "this site is not allowed to open the chat",
            ));
        }
    }
    let peer = Peer::Customer {
        tenant: session.tenant_id.clone(),
        session: session.id.clone(),
    };
    upgrade(
        &req,
        body,
        state,
        peer,
        Who::Customer(Box::new(session)),
        address,
    )
    .await
}

async fn upgrade(
    req: &HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    peer: Peer,
    who: Who,
    address: std::net::IpAddr,
) -> ApiResult<HttpResponse> {
    let limits = state.ws_limits;
    let cap_peer = state.cluster.as_ref().map(|_| peer.clone());
    // Without a cluster the hub knows the agent is reachable as soon as
    // the registration returns (with one, the cluster tells when it does).
    // Only their first socket can move the queue: another tab of someone
    // online adds no one.
    let reachable = match (&peer, &state.cluster) {
        (Peer::Agent { tenant, .. }, None) => Some(tenant.clone()),
        _ => None,
    };
    let (tx, outbound) = local::queue(limits.outbound_queue);
    let (kick_tx, kick) = oneshot::channel();
    let (id, worker, batches) = local::attach(tx);
    let registered = state
        .hub
        .register(Registration {
            id,
            worker,
            batches,
            peer,
            kick: kick_tx,
        })
        .await
        .inspect_err(|_| local::detach(id))
        .map_err(refusal)?;
    if let Some(tenant) = reachable.filter(|_| registered.came_online) {
        state.chat.queue_may_move(&tenant);
    }
    // The caps of this node hold above; with a cluster, across every node.
    let place = match (&state.cluster, cap_peer) {
        (Some(cluster), Some(peer)) => cluster.take_place(&peer).await.map_err(|()| {
            state.hub.unregister(id);
            refusal(RegisterError::TooManyConnections)
        })?,
        _ => None,
    };
    let mut handshake = match actix_http::ws::handshake(req.head()) {
        Ok(builder) => builder,
        Err(e) => {
            state.hub.unregister(id);
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "websocket_upgrade_required",
                format!("not a WebSocket handshake: {e}"),
            ));
        }
    };
    let (session, stream, own) = framing::split(
        body.into_inner(),
        limits.max_frame_bytes,
        limits.max_frame_bytes,
    );
    let delivered = Rc::new(RefCell::new(Delivered::default()));
    let body = BoxBody::new(Outgoing::new(own, outbound, delivered.clone()));
    let response = HttpResponse::from(handshake.body(body).map_into_boxed_body());
    actix_web::rt::spawn(
        Conn {
            state,
            who,
            address,
            session,
            stream,
            delivered,
            kick,
            id,
            place,
        }
        .run()
        // The connection's own span, under the upgrade request's: every
        // log line of the socket names both ids.
        .instrument(tracing::info_span!("ws", conn = id)),
    );
    Ok(response)
}

/// Why an upgrade was refused, as its answer.
fn refusal(e: RegisterError) -> ApiError {
    match e {
        RegisterError::TooManyConnections => {
            metrics::counter!("chat_rate_limited_total", "what" => "sockets").increment(1);
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_connections",
                "too many open connections for this client",
            )
        }
        RegisterError::ShuttingDown => ApiError {
            retry_after: Some(SHUTDOWN_RETRY_AFTER_SECS),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server is shutting down",
            )
        },
    }
}
