//! A value as a repository returned it after the write that made it was
//! committed.
//!
//! Events are published only from committed values: the service's publish
//! path takes `Committed<ChatSession>` (or an [`crate::AppendOutcome`]), and
//! only repository writes hand those out, so publishing a change that is not
//! yet stored does not compile.

use std::ops::Deref;

#[derive(Debug, Clone, PartialEq)]
pub struct Committed<T>(T);

impl<T> Committed<T> {
    /// For repository implementations: wraps what a committed write
    /// returned. Nothing else should call it.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Committed<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> AsRef<T> for Committed<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}
