//! Passwords: the length rule, and argon2id hashing and checking in blocking threads with
//! bounded concurrency (one hash per core), so a login flood queues here instead of starving
//! every other request of CPU; logins to unknown emails only wait as long as a check takes
//! ([`pretend_verify`]).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

/// How long a real check took lately (waiting for a slot and hashing), in microseconds: an
/// exponentially weighted mean, 0 until the first check.
static RECENT_CHECK_MICROS: AtomicU64 = AtomicU64::new(0);

fn record_check(took: Duration) {
    let took = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    let old = RECENT_CHECK_MICROS.load(Ordering::Relaxed);
    let new = if old == 0 {
        took
    } else {
        old - old / 8 + took / 8
    };
    RECENT_CHECK_MICROS.store(new, Ordering::Relaxed);
}

/// Takes as long as a real check lately took, without hashing: for a login to an email that has
/// no account, so response times do not tell which emails exist, while a flood of guessed
/// emails costs no CPU and does not queue ahead of real users' checks. Until a real check has
/// run, it runs one against `dummy_hash` to learn the time.
pub async fn pretend_verify(password: String, dummy_hash: String) {
    match RECENT_CHECK_MICROS.load(Ordering::Relaxed) {
        0 => {
            verify_password(password, dummy_hash).await;
        }
        micros => tokio::time::sleep(Duration::from_micros(micros)).await,
    }
}

/// Checks a password against a stored hash in a blocking thread. An agent invited but without
/// a password yet has an empty hash, which nothing matches.
pub async fn verify_password(password: String, hash: String) -> bool {
    let started = Instant::now();
    let matched = check(password, hash).await;
    record_check(started.elapsed());
    matched
}

async fn check(password: String, hash: String) -> bool {
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

    #[tokio::test]
    async fn a_pretended_check_waits_without_taking_a_hashing_slot() {
        let h = hash_password("correct horse".into()).await.expect("hash");
        assert!(verify_password("correct horse".into(), h.clone()).await);
        assert!(
            RECENT_CHECK_MICROS.load(Ordering::Relaxed) > 0,
            "a real check was timed"
        );
        // Every slot taken (a flood of real checks): a guessed email is still answered.
        let slots = hashing_slots();
        let all = slots
            .acquire_many(u32::try_from(slots.available_permits()).expect("few permits"))
            .await
            .expect("permits");
        tokio::time::timeout(Duration::from_secs(30), pretend_verify("guess".into(), h))
            .await
            .expect("no hashing slot needed");
        drop(all);
    }
}
