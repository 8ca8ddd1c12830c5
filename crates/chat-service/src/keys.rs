//! Secrets (session keys, tokens, tickets) and ids.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// 256 random bits as 64 lowercase hex characters: URL-safe, and far above
/// the 128 bits a guessable credential would need.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// A webhook endpoint's signing secret in the Standard Webhooks form:
/// `whsec_` and the base64 of 32 random bytes (the HMAC key).
pub fn new_webhook_secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The SHA-256 hex digest under which a secret is stored and looked up.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A new time-ordered id (UUID v7), so ids sort roughly by creation.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The one rule for what a server-made secret looks like lives with the
/// domain's `SessionKey`.
pub use chat_domain::ids::is_well_formed_secret;

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_distinct_and_well_formed() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(is_well_formed_secret(&a));
        assert!(!is_well_formed_secret(&a.to_uppercase()));
    }

    #[test]
    fn hashing_is_sha256_hex() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
