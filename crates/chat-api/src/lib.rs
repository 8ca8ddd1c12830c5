//! The chat server as a library: typed settings, telemetry, the
//! [`startup::Application`] that wires store, services, hub and HTTP server
//! together, and the admin commands. `main.rs` only parses the command line
//! and calls into here, so tests start exactly what production runs.
//!
//! This is the only crate that names concrete implementations.

pub mod admin;
pub mod cli;
pub mod configuration;
pub mod demo;
pub mod http;
pub mod metrics;
pub mod startup;
pub mod telemetry;
