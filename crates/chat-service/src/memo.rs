//! A node's small memories (the bot's articles and bot-off answers per
//! tenant, logins found valid): a locked map that starts over once it
//! holds `CAP` entries, so that it never grows without bound.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub struct Memo<K, V, const CAP: usize>(Mutex<HashMap<K, V>>);

impl<K, V, const CAP: usize> Default for Memo<K, V, CAP> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<K: Eq + Hash, V: Clone, const CAP: usize> Memo<K, V, CAP> {
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.0.lock().ok().and_then(|m| m.get(key).cloned())
    }

    pub fn insert(&self, key: K, value: V) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= CAP {
                m.clear();
            }
            m.insert(key, value);
        }
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Ok(mut m) = self.0.lock() {
            m.remove(key);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }
}
