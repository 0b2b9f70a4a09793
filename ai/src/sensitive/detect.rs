//! Checksummed detectors for personal data, on width-folded text (full-width digits count):
//!
//! - Chinese resident ID numbers: 18 characters, the last a digit or `X`, with the GB 11643-1999
//!   check character (weights 2^(17-i) mod 11) and a plausible birth month and day;
//! - bank card numbers: 13 to 19 digits passing the Luhn check, written whole or in groups
//!   separated by single spaces or hyphens;
//! - mainland mobile numbers: 11 digits starting 13–19, whole or as 3-4-4;
//! - email addresses.
//!
//! A number must not touch other digits or letters, so a longer number is not taken apart.
//! When a run of numbers with separators is not one number, each group is tried alone
//! (two phone numbers separated by a space).

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// What a detector finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// A Chinese resident ID number (GB 11643 checksum).
    CnId,
    /// A bank card number (Luhn).
    BankCard,
    /// A mainland China mobile number.
    Mobile,
    /// An email address.
    Email,
}

impl Detector {
    /// Every detector.
    pub const ALL: [Detector; 4] = [Self::CnId, Self::BankCard, Self::Mobile, Self::Email];

    /// Its name in the API (`cn_id`, `bank_card`, `mobile`, `email`).
    pub fn name(self) -> &'static str {
        match self {
            Self::CnId => "cn_id",
            Self::BankCard => "bank_card",
            Self::Mobile => "mobile",
            Self::Email => "email",
        }
    }
}

static NUMBERS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9](?:[ \-]?[0-9])*[Xx]?").expect("a valid literal pattern"));
static EMAILS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("a valid literal pattern")
});

/// Every piece of personal data in `text` (already width-folded): detector and byte range.
pub fn detect(text: &str) -> Vec<(Detector, usize, usize)> {
    let mut found = Vec::new();
    for m in EMAILS.find_iter(text) {
        found.push((Detector::Email, m.start(), m.end()));
    }
    for m in NUMBERS.find_iter(text) {
        let bytes = text.as_bytes();
        let touches = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric());
        if (m.start() > 0 && touches(m.start() - 1)) || touches(m.end()) {
            continue;
        }
        if found.iter().any(|&(_, s, e)| m.start() < e && s < m.end()) {
            continue; // digits inside an email address
        }
        if let Some(d) = classify(m.as_str()) {
            found.push((d, m.start(), m.end()));
            continue;
        }
        // Not one number: try each separated group alone.
        let mut at = m.start();
        for group in m.as_str().split([' ', '-']) {
            if let Some(d) = classify(group) {
                found.push((d, at, at + group.len()));
            }
            at += group.len() + 1;
        }
    }
    found.sort_by_key(|f| f.1);
    found
}

/// What one run of digits (with optional single separators, maybe ending in `X`) is.
fn classify(run: &str) -> Option<Detector> {
    let chars: Vec<u8> = run
        .bytes()
        .filter(|b| *b != b' ' && *b != b'-')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    let grouped = chars.len() != run.len();
    if chars.len() == 18 && cn_id_valid(&chars) {
        return Some(Detector::CnId);
    }
    if chars.last() == Some(&b'X') {
        return None;
    }
    if chars.len() == 11 && mobile_valid(&chars) && (!grouped || is_3_4_4(run)) {
        return Some(Detector::Mobile);
    }
    if (13..=19).contains(&chars.len()) && luhn_valid(&chars) {
        return Some(Detector::BankCard);
    }
    None
}

fn is_3_4_4(run: &str) -> bool {
    let groups: Vec<usize> = run.split([' ', '-']).map(str::len).collect();
    groups == [3, 4, 4]
}

/// The GB 11643-1999 check: weights 2^(17-i) mod 11 over the first 17 digits; the sum mod 11
/// picks the check character from `10X98765432`. Also wants a birth month 01–12 and day 01–31.
pub fn cn_id_valid(id: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    if id.len() != 18 || !id[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = id[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let two = |i: usize| u32::from(id[i] - b'0') * 10 + u32::from(id[i + 1] - b'0');
    let (month, day) = (two(10), two(12));
    CHECK[(sum % 11) as usize] == id[17] && (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// The Luhn check used by card numbers.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if !digits.iter().all(u8::is_ascii_digit) || digits.iter().all(|d| *d == b'0') {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let n = u32::from(d - b'0');
            if i % 2 == 1 {
                if n * 2 > 9 { n * 2 - 9 } else { n * 2 }
            } else {
                n
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn mobile_valid(d: &[u8]) -> bool {
    d.len() == 11
        && d.iter().all(u8::is_ascii_digit)
        && d[0] == b'1'
        && (b'3'..=b'9').contains(&d[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Detector, &str)> {
        detect(text)
            .into_iter()
            .map(|(d, s, e)| (d, &text[s..e]))
            .collect()
    }

    #[test]
    fn checksums() {
        assert!(cn_id_valid(b"11010519491231002X"));
        assert!(cn_id_valid(b"110101199003074514"));
        assert!(!cn_id_valid(b"110101199003074515"));
        assert!(luhn_valid(b"4111111111111111"));
        assert!(luhn_valid(b"5555555555554444"));
        assert!(!luhn_valid(b"4111111111111112"));
    }

    #[test]
    fn finds_personal_data() {
        let cases: &[(&str, &[(Detector, &str)])] = &[
            (
                "身份证110101199003074514谢谢",
                &[(Detector::CnId, "110101199003074514")],
            ),
            (
                "id 11010519491231002x ok",
                &[(Detector::CnId, "11010519491231002x")],
            ),
            ("bad 110101199003074515", &[]),
            (
                "card 4111 1111 1111 1111.",
                &[(Detector::BankCard, "4111 1111 1111 1111")],
            ),
            ("card 4111-1111-1111-1112", &[]),
            (
                "call 13800138000 or 139 0013 9000",
                &[
                    (Detector::Mobile, "13800138000"),
                    (Detector::Mobile, "139 0013 9000"),
                ],
            ),
            ("12800138000", &[]),
            ("order 138001380001", &[]),
            (
                "mail me at li.lei+cs@example.com.cn now",
                &[(Detector::Email, "li.lei+cs@example.com.cn")],
            ),
            (
                "13800138000 13900139000",
                &[
                    (Detector::Mobile, "13800138000"),
                    (Detector::Mobile, "13900139000"),
                ],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(kinds(text), *want, "{text}");
        }
    }
}
