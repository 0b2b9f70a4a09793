//! Random tokens for conversation threading and public inbox tokens.

use rand::Rng;
use rand::distr::Alphanumeric;

/// `len` random alphanumeric characters from the OS-seeded thread RNG.
pub fn random(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
