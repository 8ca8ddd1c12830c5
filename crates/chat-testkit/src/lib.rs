//! Test doubles: in-memory implementations of every port, so that the chat
//! logic can be exercised without a database or a network. They follow the
//! contracts of the real store (tenant scoping, gapless `seq`, idempotent
//! appends, optimistic state updates) but persist nothing. Only tests
//! depend on this crate; it is never part of a build of the server.

mod conversations;
mod hub;
mod store;

pub use hub::{RecordingHub, Target};
pub use store::InMemoryStore;
