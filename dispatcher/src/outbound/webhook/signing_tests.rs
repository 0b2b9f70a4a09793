//! Official Standard Webhooks vectors (PROTOCOLS.md §4, SW1 and SW2) and the reference
//! libraries' acceptance cases.

use chrono::TimeZone;

use super::*;

const SW1_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW1_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SW1_TS: i64 = 1614265330;
const SW1_BODY: &[u8] = br#"{"test": 2432232314}"#;
const SW1_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const SW1_BAD: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";

const SW2_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const SW2_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
const SW2_TS: i64 = 1649367553;
const SW2_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
const SW2_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
const SW2_BAD: &str = "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=";

fn secret(s: &str) -> Secret {
    Secret::parse(s).expect("test secret parses")
}

fn at(ts: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(ts, 0).single().expect("valid timestamp")
}

/// Verifies SW1's body against a header set, one second after it was signed.
fn check_sw1(id: &str, ts: &str, sig: &str) -> Result<(), VerifyError> {
    let headers = [
        (HEADER_ID, id),
        (HEADER_TIMESTAMP, ts),
        (HEADER_SIGNATURE, sig),
    ];
    verify(
        &[secret(SW1_SECRET)],
        headers,
        SW1_BODY,
        at(SW1_TS + 1),
        DEFAULT_TOLERANCE,
    )
}

#[test]
fn official_vectors_sign() {
    assert_eq!(sign(&secret(SW1_SECRET), SW1_ID, SW1_TS, SW1_BODY), SW1_SIG);
    assert_eq!(sign(&secret(SW2_SECRET), SW2_ID, SW2_TS, SW2_BODY), SW2_SIG);
}

#[test]
fn official_vectors_verify_and_their_negatives_fail() {
    let ts = SW1_TS.to_string();
    assert_eq!(check_sw1(SW1_ID, &ts, SW1_SIG), Ok(()));
    assert_eq!(
        check_sw1(SW1_ID, &ts, SW1_BAD),
        Err(VerifyError::NoMatchingSignature)
    );

    let sw2 = |sig: &'static str| {
        let ts = SW2_TS.to_string();
        let headers = [
            (HEADER_ID, SW2_ID),
            (HEADER_TIMESTAMP, ts.as_str()),
            (HEADER_SIGNATURE, sig),
        ];
        verify(
            &[secret(SW2_SECRET)],
            headers,
            SW2_BODY,
            at(SW2_TS),
            DEFAULT_TOLERANCE,
        )
    };
    assert_eq!(sw2(SW2_SIG), Ok(()));
    assert_eq!(sw2(SW2_BAD), Err(VerifyError::NoMatchingSignature));
}

#[test]
fn wrong_secret_tampered_body_or_changed_id_fail() {
    let ts = SW1_TS.to_string();
    let headers = [
        (HEADER_ID, SW1_ID),
        (HEADER_TIMESTAMP, ts.as_str()),
        (HEADER_SIGNATURE, SW1_SIG),
    ];
    let now = at(SW1_TS);
    assert_eq!(
        verify(
            &[secret(SW2_SECRET)],
            headers,
            SW1_BODY,
            now,
            DEFAULT_TOLERANCE
        ),
        Err(VerifyError::NoMatchingSignature)
    );
    assert_eq!(
        verify(
            &[secret(SW1_SECRET)],
            headers,
            br#"{"test": 2432232315}"#,
            now,
            DEFAULT_TOLERANCE
        ),
        Err(VerifyError::NoMatchingSignature)
    );
    assert_eq!(
        check_sw1("msg_p5jXN8AQM9LWM0D4loKWxJeK", &ts, SW1_SIG),
        Err(VerifyError::NoMatchingSignature)
    );
    // The timestamp is signed too: shifting it by one second breaks the signature.
    assert_eq!(
        check_sw1(SW1_ID, &(SW1_TS + 1).to_string(), SW1_SIG),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[test]
fn timestamps_outside_five_minutes_fail_both_ways() {
    let sig_at = |ts: i64| sign(&secret(SW1_SECRET), SW1_ID, ts, SW1_BODY);
    let now = at(SW1_TS);
    let case = |ts: i64| {
        let (t, s) = (ts.to_string(), sig_at(ts));
        let headers = [
            (HEADER_ID, SW1_ID),
            (HEADER_TIMESTAMP, t.as_str()),
            (HEADER_SIGNATURE, s.as_str()),
        ];
        verify(
            &[secret(SW1_SECRET)],
            headers,
            SW1_BODY,
            now,
            DEFAULT_TOLERANCE,
        )
    };
    assert_eq!(case(SW1_TS - 300), Ok(()));
    assert_eq!(case(SW1_TS + 300), Ok(()));
    assert_eq!(case(SW1_TS - 301), Err(VerifyError::TimestampTooOld));
    assert_eq!(case(SW1_TS + 301), Err(VerifyError::TimestampTooNew));
}

#[test]
fn malformed_or_missing_headers_fail() {
    let ts = SW1_TS.to_string();
    let cases: &[(&str, &str, &str, VerifyError)] = &[
        (SW1_ID, "hello", SW1_SIG, VerifyError::MalformedTimestamp),
        (SW1_ID, "", SW1_SIG, VerifyError::MalformedTimestamp),
        (
            SW1_ID,
            "+1614265330",
            SW1_SIG,
            VerifyError::MalformedTimestamp,
        ),
        (
            SW1_ID,
            "1614265330.5",
            SW1_SIG,
            VerifyError::MalformedTimestamp,
        ),
        ("", &ts, SW1_SIG, VerifyError::MalformedId),
        ("msg.1", &ts, SW1_SIG, VerifyError::MalformedId),
        (SW1_ID, &ts, "", VerifyError::NoMatchingSignature),
        (SW1_ID, &ts, "v1,", VerifyError::NoMatchingSignature),
        (SW1_ID, &ts, "v1", VerifyError::NoMatchingSignature),
        (SW1_ID, &ts, "v", VerifyError::NoMatchingSignature),
        (SW1_ID, &ts, "v1,g0hM9SsE", VerifyError::NoMatchingSignature),
        (
            SW1_ID,
            &ts,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O",
            VerifyError::NoMatchingSignature,
        ),
        (
            SW1_ID,
            &ts,
            "v1,not base64!",
            VerifyError::NoMatchingSignature,
        ),
        // Right bytes, unknown version: ignored.
        (
            SW1_ID,
            &ts,
            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            VerifyError::NoMatchingSignature,
        ),
        (
            SW1_ID,
            &ts,
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            VerifyError::NoMatchingSignature,
        ),
    ];
    for (id, t, sig, want) in cases {
        assert_eq!(
            check_sw1(id, t, sig).as_ref(),
            Err(want),
            "{id:?} {t:?} {sig:?}"
        );
    }

    let full = [
        (HEADER_ID, SW1_ID),
        (HEADER_TIMESTAMP, ts.as_str()),
        (HEADER_SIGNATURE, SW1_SIG),
    ];
    for skip in 0..3 {
        let partial = full
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, h)| *h);
        let err = verify(
            &[secret(SW1_SECRET)],
            partial,
            SW1_BODY,
            at(SW1_TS),
            DEFAULT_TOLERANCE,
        );
        assert_eq!(err, Err(VerifyError::MissingHeader(full[skip].0)));
    }
    let doubled = full.iter().copied().chain([(HEADER_SIGNATURE, SW1_SIG)]);
    assert_eq!(
        verify(
            &[secret(SW1_SECRET)],
            doubled,
            SW1_BODY,
            at(SW1_TS),
            DEFAULT_TOLERANCE
        ),
        Err(VerifyError::DuplicateHeader(HEADER_SIGNATURE))
    );
}

#[test]
fn header_names_are_case_insensitive_and_others_ignored() {
    let ts = SW1_TS.to_string();
    let headers = [
        ("Content-Type", "application/json"),
        ("Webhook-Id", SW1_ID),
        ("WEBHOOK-TIMESTAMP", ts.as_str()),
        ("webhook-signature", SW1_SIG),
    ];
    let secrets = [secret(SW1_SECRET)];
    assert_eq!(
        verify(&secrets, headers, SW1_BODY, at(SW1_TS), DEFAULT_TOLERANCE),
        Ok(())
    );
}

#[test]
fn multi_signature_header_passes_if_any_v1_entry_matches() {
    let ts = SW1_TS.to_string();
    let other = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
    let v2 = "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
    let header = format!("{other} {v2} {SW1_SIG} {other}");
    assert_eq!(check_sw1(SW1_ID, &ts, &header), Ok(()));
    let without = format!("{other} {v2} {other}");
    assert_eq!(
        check_sw1(SW1_ID, &ts, &without),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[test]
fn rotation_signs_with_both_secrets_and_either_verifies() {
    let (new, old) = (Secret::generate(), secret(SW1_SECRET));
    let now = at(SW1_TS);
    let headers = WebhookHeaders::new(SW1_ID, now, SW1_BODY, &new, Some(&old));
    assert_eq!(headers.id, SW1_ID);
    assert_eq!(headers.timestamp, SW1_TS.to_string());
    let sigs: Vec<&str> = headers.signature.split(' ').collect();
    assert_eq!(sigs.len(), 2);
    assert_eq!(sigs[1], SW1_SIG);
    for holder in [&new, &old] {
        let ok = verify(
            std::slice::from_ref(holder),
            headers.pairs(),
            SW1_BODY,
            now,
            DEFAULT_TOLERANCE,
        );
        assert_eq!(ok, Ok(()));
    }
    let stranger = Secret::generate();
    let err = verify(
        &[stranger],
        headers.pairs(),
        SW1_BODY,
        now,
        DEFAULT_TOLERANCE,
    );
    assert_eq!(err, Err(VerifyError::NoMatchingSignature));

    // Without a rotation, or "rotating" to the same secret, there is exactly one signature.
    let single = WebhookHeaders::new(SW1_ID, now, SW1_BODY, &old, Some(&old));
    assert_eq!(single.signature, SW1_SIG);
}

#[test]
fn secrets_parse_with_or_without_prefix_and_padding() {
    let raw = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    assert_eq!(secret(raw), secret(SW1_SECRET));
    assert_eq!(secret(SW1_SECRET).to_string(), SW1_SECRET);
    assert_eq!(secret(SW1_SECRET).as_bytes().len(), 24);
    // 25 bytes need padding; accept it both with and without.
    let padded = STANDARD.encode([7u8; 25]);
    assert!(padded.ends_with('='));
    assert_eq!(secret(&padded), secret(padded.trim_end_matches('=')));

    let cases: &[(&str, SecretError)] = &[
        ("", SecretError::Empty),
        ("whsec_", SecretError::Empty),
        ("  ", SecretError::Empty),
        ("whsec_not base64!", SecretError::NotBase64),
        (
            "whsec_MfKQ9r8G-KYqrTwjUPD8ILPZIo2LaLaSw",
            SecretError::NotBase64,
        ),
        ("whsec_c2hvcnQ=", SecretError::Length(5)),
    ];
    for (text, want) in cases {
        assert_eq!(Secret::parse(text).as_ref(), Err(want), "{text:?}");
    }
    let long = format!("whsec_{}", STANDARD.encode([1u8; 65]));
    assert_eq!(Secret::parse(&long), Err(SecretError::Length(65)));
    assert_eq!(
        SecretError::Length(5).to_string(),
        "the webhook secret must decode to 24 to 64 bytes, not 5"
    );
}

#[test]
fn generated_secrets_round_trip_and_do_not_leak_in_debug() {
    let a = Secret::generate();
    assert_ne!(a, Secret::generate());
    let shown = a.to_string();
    assert!(shown.starts_with("whsec_"));
    assert_eq!(secret(&shown), a);
    assert!(!format!("{a:?}").contains(&shown[6..]));
}
