//! Passwords: the length rule, and argon2id hashing and checking in blocking threads with
//! bounded concurrency (one hash per core), so a login flood queues here instead of starving
//! every other request of CPU.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use tokio::sync::Semaphore;

use super::AccountError;

/// Fails with [`AccountError::WeakPassword`] about `field` unless `p` has 8 to 1024
/// characters.
pub fn check_password(p: &str, field: &str) -> Result<(), AccountError> {
    if p.chars().count() < 8 || p.len() > 1024 {
        return Err(AccountError::WeakPassword {
            field: field.to_owned(),
        });
    }
    Ok(())
}

fn hashing_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// Hashes a password with argon2id (default parameters) in a blocking thread.
pub async fn hash_password(password: String) -> Result<String, AccountError> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(|e| AccountError::Hashing(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| AccountError::Hashing(e.to_string()))?
    .map_err(|e| AccountError::Hashing(e.to_string()))
}

/// Checks a password against a stored hash in a blocking thread. An agent invited but without
/// a password yet has an empty hash, which nothing matches.
pub async fn verify_password(password: String, hash: String) -> bool {
    let Ok(_slot) = hashing_slots().acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(check_password("1234567", "password").is_err());
        assert!(check_password("12345678", "password").is_ok());
        assert!(check_password(&"x".repeat(1025), "password").is_err());
        // Characters, not bytes: eight CJK characters are enough.
        assert!(check_password("密码密码密码密码", "password").is_ok());
    }

    #[tokio::test]
    async fn a_hash_matches_its_password_only() {
        let h = hash_password("correct horse".into()).await.expect("hash");
        assert!(verify_password("correct horse".into(), h.clone()).await);
        assert!(!verify_password("wrong horse".into(), h).await);
        assert!(!verify_password("anything".into(), String::new()).await);
    }
}
