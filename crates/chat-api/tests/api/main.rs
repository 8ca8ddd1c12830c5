//! Black-box tests: the real server on port 0, a fresh database per test
//! (SQLite, or MariaDB / PostgreSQL per `CHAT_TEST_DATABASE`), real HTTP and
//! WebSocket clients.

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

mod api_tokens;
mod assignment;
mod attachments;
mod auth;
mod bot;
mod cluster;
mod customer_flow;
mod desk;
mod email;
mod hardening;
mod health;
mod helpers;
mod history;
mod idempotency;
mod limits;
mod outage;
mod receipts;
mod reports;
mod search;
mod serving;
mod slow_clients;
mod team;
mod tenancy;
mod validation;
mod webhooks;
mod widget;
mod ws_auth;
mod ws_delivery;
mod ws_events;
mod ws_frames;

#[path = "../support/receiver.rs"]
mod receiver;
#[path = "../support/redis_keys.rs"]
mod redis_keys;
