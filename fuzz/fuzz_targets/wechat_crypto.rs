//! The WXBizMsgCrypt envelope ([`MsgCrypt`], [`verify_signature`], [`decode_aes_key`]):
//! decrypting anything never panics and never yields a plaintext for a ciphertext Kefu did
//! not make; what Kefu encrypts decrypts to itself for its receiver only; a signature checks
//! exactly when it is the one computed (either hex case).

#![no_main]

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kefu_channel_wechat::crypto::{
    CryptoError, MsgCrypt, decode_aes_key, signature, verify_signature,
};
use libfuzzer_sys::fuzz_target;

/// The official test vector's key and AppID (wechatpy's `test_crypto.py`).
const KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
const APP_ID: &str = "wx49f0ab532d5d035a";

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    /// A plaintext to encrypt, as a callback body would be.
    msg: &'a str,
    random: [u8; 16],
    /// Another account's id, for the receiver check.
    other_receiver: &'a str,
    /// An `Encrypt` value as a sender could write it.
    encrypt: &'a str,
    /// Raw ciphertext bytes, base64-encoded before decrypting.
    ciphertext: &'a [u8],
    timestamp: &'a str,
    nonce: &'a str,
    /// A signature as a sender could write it.
    given_signature: &'a str,
    /// A candidate EncodingAESKey.
    key: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let crypt = MsgCrypt::new("123456", KEY, APP_ID).expect("the official sample key is valid");

    // Hostile ciphertexts.
    let _ = crypt.decrypt(input.encrypt);
    let mut aligned = input.ciphertext.to_vec();
    aligned.resize(aligned.len().div_ceil(16).max(1) * 16, 0);
    for ct in [input.ciphertext, aligned.as_slice()] {
        // AES cannot be steered by a fuzzer: random blocks never decrypt to a valid envelope.
        assert!(crypt.decrypt(&STANDARD.encode(ct)).is_err());
    }

    // Round trip, and the receiver check.
    let encrypted = crypt.encrypt_with_random(&input.random, input.msg);
    assert_eq!(crypt.decrypt(&encrypted).as_deref(), Ok(input.msg));
    let sig = crypt.msg_signature(input.timestamp, input.nonce, &encrypted);
    assert_eq!(
        crypt
            .verify_and_decrypt(&sig, input.timestamp, input.nonce, &encrypted)
            .as_deref(),
        Ok(input.msg)
    );
    assert_eq!(
        crypt
            .verify_and_decrypt(
                &sig.to_ascii_uppercase(),
                input.timestamp,
                input.nonce,
                &encrypted
            )
            .as_deref(),
        Ok(input.msg)
    );
    if input.other_receiver != APP_ID {
        let other = MsgCrypt::new("123456", KEY, input.other_receiver).expect("same key");
        assert_eq!(
            other.decrypt(&encrypted),
            Err(CryptoError::ReceiverMismatch)
        );
    }

    // Signatures: accepted exactly when equal to the computed one, ignoring hex case.
    let parts = [input.timestamp, input.nonce, input.encrypt];
    let accepted = verify_signature(input.given_signature, &parts).is_ok();
    assert_eq!(
        accepted,
        input.given_signature.to_ascii_lowercase() == signature(&parts),
        "{:?}",
        input.given_signature
    );
    if crypt
        .verify(
            input.given_signature,
            input.timestamp,
            input.nonce,
            input.encrypt,
        )
        .is_ok()
    {
        assert!(
            input
                .given_signature
                .eq_ignore_ascii_case(&crypt.msg_signature(
                    input.timestamp,
                    input.nonce,
                    input.encrypt
                ))
        );
    }

    // Keys: only 43 alphanumerics can be one.
    if decode_aes_key(input.key).is_ok() {
        assert_eq!(input.key.len(), 43);
        assert!(input.key.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
});
