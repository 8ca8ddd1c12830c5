//! Every request body type and every domain parser behind it, on arbitrary
//! input: each either parses or refuses, and never panics.

#![no_main]

use chat_domain::{
    ArticleInput, ClientMsgId, Email, MessageBody, PageContext, SessionKey, TenantSlug,
};
use chat_transport::wire::{
    ArticleRequest, AssignRequest, BotRequest, CreateAgentRequest, LoginRequest,
    SendMessageRequest, StartSessionRequest,
};
use libfuzzer_sys::fuzz_target;
use validator::Validate;

fn body<T: serde::de::DeserializeOwned>(data: &[u8]) -> Option<T> {
    serde_json::from_slice(data).ok()
}

fuzz_target!(|data: &[u8]| {
    if let Some(r) = body::<StartSessionRequest>(data) {
        let _ = r.validate();
    }
    if let Some(r) = body::<SendMessageRequest>(data) {
        if r.validate().is_ok() {
            let _ = MessageBody::parse(&r.body);
            let _ = r.client_msg_id.as_deref().map(ClientMsgId::parse);
        }
    }
    if let Some(r) = body::<LoginRequest>(data) {
        if r.validate().is_ok() {
            let _ = Email::parse(&r.email);
        }
    }
    let _ = body::<AssignRequest>(data);
    if let Some(r) = body::<CreateAgentRequest>(data) {
        let _ = r.validate();
    }
    if let Some(r) = body::<ArticleRequest>(data) {
        let _ = ArticleInput::parse(&r.title, &r.body, &r.keywords);
    }
    let _ = body::<BotRequest>(data);
    let text = String::from_utf8_lossy(data);
    let _ = TenantSlug::parse(&text);
    let _ = SessionKey::parse(&text);
    let _ = Email::parse(&text);
    let _ = MessageBody::parse(&text);
    let mut parts = text.splitn(4, '\n');
    let _ = PageContext::parse(parts.next(), parts.next(), parts.next(), parts.next());
});
