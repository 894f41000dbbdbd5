//! Encryption at rest for the secrets the engine must keep (the PlusVibe client password).
//!
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`) with a 32-byte key the operator
//! supplies and a random 24-byte nonce per value; the provision id is bound as associated
//! data, so a ciphertext copied to another row does not open.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

const PREFIX: &str = "xc20p1:";

/// A sealed (encrypted and authenticated) secret, as stored: `xc20p1:<base64(nonce|ct)>`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(String);

impl Sealed {
    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Wrap stored text (checked when opened).
    pub fn from_stored(s: impl Into<String>) -> Self {
        Sealed(s.into())
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealed(..)")
    }
}

/// Errors of [`SecretKey`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The key text is not 32 bytes of base64 or hex.
    #[error(
        "the secret key must be 32 bytes, given as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)"
    )]
    BadKey,
    /// The stored value is damaged, from another row, or sealed with another key.
    #[error("a stored secret could not be decrypted: wrong key, or the value was altered")]
    Open,
}

/// The operator's key for secrets at rest.
#[derive(Clone)]
pub struct SecretKey {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

impl SecretKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SecretKey {
            cipher: XChaCha20Poly1305::new(&bytes.into()),
        }
    }

    /// A key from text: 64 hex characters or base64 of 32 bytes.
    pub fn parse(text: &SecretString) -> Result<Self, SecretError> {
        let t = text.expose_secret().trim();
        let bytes = if t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| SecretError::BadKey)?
        } else {
            B64.decode(t).map_err(|_| SecretError::BadKey)?
        };
        let arr: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(SecretKey::from_bytes(arr))
    }

    /// A fresh random key (for tests, demos and `gtm-infra` first runs).
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        fill_random(&mut k);
        SecretKey::from_bytes(k)
    }

    /// Seal `secret`, bound to `context` (the provision id).
    pub fn seal(&self, secret: &SecretString, context: &str) -> Sealed {
        let mut nonce = [0u8; 24];
        fill_random(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Sealed(format!("{PREFIX}{}", B64.encode(out)))
    }

    /// Open a sealed secret bound to `context`.
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<SecretString, SecretError> {
        let raw = sealed
            .0
            .strip_prefix(PREFIX)
            .and_then(|b| B64.decode(b).ok())
            .filter(|r| r.len() > 24)
            .ok_or(SecretError::Open)?;
        let (nonce, ct) = raw.split_at(24);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Open)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| SecretError::Open)
    }
}

fn fill_random(buf: &mut [u8]) {
    // fastrand is not a CSPRNG; nonces and keys come from the OS.
    getrandom::fill(buf).expect("the operating system's random source is available");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_context() {
        let k = SecretKey::generate();
        let s = k.seal(&SecretString::from("hunter2"), "prov-1");
        assert!(!s.as_str().contains("hunter2"));
        assert!(!format!("{s:?}").contains(s.as_str()));
        assert_eq!(k.open(&s, "prov-1").unwrap().expose_secret(), "hunter2");
        assert!(k.open(&s, "prov-2").is_err());
        assert!(SecretKey::generate().open(&s, "prov-1").is_err());
        // Two seals of the same value differ (random nonces).
        assert_ne!(s, k.seal(&SecretString::from("hunter2"), "prov-1"));
        let mut tampered = s.as_str().to_string();
        tampered.pop();
        tampered.push('A');
        assert!(k.open(&Sealed::from_stored(tampered), "prov-1").is_err());
    }

    #[test]
    fn key_parsing() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        assert!(SecretKey::parse(&SecretString::from(hex)).is_ok());
        let b64 = B64.encode([7u8; 32]);
        assert!(SecretKey::parse(&SecretString::from(b64)).is_ok());
        for bad in ["", "short", &"0".repeat(63), &B64.encode([1u8; 16])] {
            assert!(SecretKey::parse(&SecretString::from(bad.to_string())).is_err());
        }
        assert_eq!(
            format!("{:?}", SecretKey::generate()),
            "SecretKey([REDACTED])"
        );
    }
}
