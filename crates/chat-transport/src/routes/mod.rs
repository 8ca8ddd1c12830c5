//! REST handlers, one module per resource; their twin for WebSocket frames
//! is `ws::frames`.

pub mod agents;
pub mod api_tokens;
pub mod attachments;
pub mod auth;
pub mod desk;
pub mod email;
pub mod health;
pub mod kb;
pub mod public;
pub mod reports;
pub mod search;
pub mod sessions;
pub mod webhooks;
pub mod widget;

use actix_web::HttpResponse;
use actix_web::http::header;
use chat_domain::Message;

use crate::wire::MessageResponse;
use crate::wire::transcript::{self, TranscriptFormat};

/// A transcript as a download: `Content-Disposition: attachment`, and for
/// HTML a policy that lets the file run nothing.
pub fn transcript_file(t: &chat_service::Transcript, format: TranscriptFormat) -> HttpResponse {
    let filename = format!(
        "transcript-{}-{}.{}",
        t.tenant.slug.as_str(),
        t.session.created_at.format("%Y%m%d-%H%M%S"),
        format.extension()
    );
    let mut res = HttpResponse::Ok();
    res.content_type(format.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        ));
    match format {
        TranscriptFormat::Text => res.body(transcript::text(t)),
        TranscriptFormat::Html => res.body(transcript::html(t)),
        TranscriptFormat::Json => res.json(transcript::json(t)),
    }
}

/// 201 with the new message, or 200 with the one already stored under the
/// same `client_msg_id` (a retry).
pub fn sent(message: &Message, created: bool) -> HttpResponse {
    let mut res = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    res.json(MessageResponse {
        message: message.into(),
    })
}
