//! Request extractors: the authenticated agent.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use chat_service::AgentCtx;

use crate::AppState;
use crate::error::ApiError;

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// An agent authenticated by bearer token; the tenant context of a handler.
pub struct Agent(pub AgentCtx);

impl FromRequest for Agent {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req).map(str::to_owned);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token.ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
            let state = state.ok_or_else(|| {
                ApiError::new(
                    actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            })?;
            Ok(Agent(state.auth.authenticate(&token).await?))
        })
    }
}
