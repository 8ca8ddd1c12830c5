//! REST handlers, one module per resource.

pub mod agents;
pub mod auth;
pub mod health;
pub mod kb;
pub mod public;
pub mod sessions;
