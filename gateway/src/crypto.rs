//! Keys derived from `secret_key`: AES-256-GCM for channel secrets at rest, HMAC-SHA256 for
//! session tokens. Separate derived keys keep one use from weakening the other.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Secret keys for one Kefu deployment.
#[derive(Clone)]
pub struct Keys {
    secrets: [u8; 32],
    sessions: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

/// Stored data that cannot be decrypted (wrong `secret_key`, corrupted row).
#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt stored secrets: {0}")]
pub struct DecryptError(&'static str);

impl Keys {
    /// Derives the keys from a master secret.
    pub fn from_secret(secret: &str) -> Self {
        Self {
            secrets: derive(secret, b"kefu/v1/channel-secrets"),
            sessions: derive(secret, b"kefu/v1/sessions"),
        }
    }

    /// Uses `configured`, or the key in `data_dir/secret.key`, generating that file (mode 0600)
    /// on first start.
    pub fn load_or_generate(
        configured: Option<&SecretString>,
        data_dir: &Path,
    ) -> std::io::Result<Self> {
        if let Some(s) = configured {
            return Ok(Self::from_secret(s.expose_secret()));
        }
        let path = data_dir.join("secret.key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Ok(Self::from_secret(existing.trim()));
        }
        std::fs::create_dir_all(data_dir)?;
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let secret = hex::encode(raw);
        write_private(&path, &secret)?;
        tracing::info!(path = %path.display(), "Generated a new secret key; back it up with the database.");
        Ok(Self::from_secret(&secret))
    }

    /// A further key for one purpose (e.g. `kefu/v1/webchat-sessions`), derived from the master
    /// secret so that every purpose has its own.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        derive(&hex::encode(self.sessions), label.as_bytes())
    }

    /// Encrypts `plain` as `v1:<base64(nonce ∥ ciphertext)>`.
    pub fn encrypt(&self, plain: &[u8]) -> String {
        let cipher = Aes256Gcm::new((&self.secrets).into());
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        // Encryption into a Vec cannot fail for inputs under the AEAD's 64 GiB limit.
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), plain)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("v1:{}", STANDARD.encode(out))
    }

    /// Reverses [`encrypt`](Self::encrypt).
    pub fn decrypt(&self, stored: &str) -> Result<Vec<u8>, DecryptError> {
        let b64 = stored
            .strip_prefix("v1:")
            .ok_or(DecryptError("unknown format"))?;
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| DecryptError("not base64"))?;
        if raw.len() < 12 + 16 {
            return Err(DecryptError("too short"));
        }
        let (nonce, ct) = raw.split_at(12);
        Aes256Gcm::new((&self.secrets).into())
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| DecryptError("authentication failed; was secret_key changed?"))
    }

    /// Signs `payload` for a session token.
    pub fn sign(&self, payload: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.sessions)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(payload.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Checks a signature from [`sign`](Self::sign) in constant time.
    pub fn verify(&self, payload: &str, signature: &str) -> bool {
        let Ok(sig) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.sessions)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(payload.as_bytes());
        mac.verify_slice(&sig).is_ok()
    }
}

fn derive(secret: &str, label: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(label);
    mac.finalize().into_bytes().into()
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_tampering_is_detected() {
        let k = Keys::from_secret("test-secret");
        let stored = k.encrypt(br#"{"app_secret":"s3cr3t"}"#);
        assert!(!stored.contains("s3cr3t"));
        assert_eq!(
            k.decrypt(&stored).expect("decrypts"),
            br#"{"app_secret":"s3cr3t"}"#
        );
        assert!(
            Keys::from_secret("other").decrypt(&stored).is_err(),
            "another key must not decrypt"
        );
        let mut tampered = stored.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            k.decrypt(&String::from_utf8(tampered).expect("ascii"))
                .is_err()
        );
        assert!(k.decrypt("plain").is_err());
    }

    #[test]
    fn signatures_verify_only_with_the_same_key_and_payload() {
        let k = Keys::from_secret("a");
        let sig = k.sign("1.2.3");
        assert!(k.verify("1.2.3", &sig));
        assert!(!k.verify("1.2.4", &sig));
        assert!(!Keys::from_secret("b").verify("1.2.3", &sig));
        assert!(!k.verify("1.2.3", "!!"));
    }
}
