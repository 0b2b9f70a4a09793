//! WeChat callback signatures and the WXBizMsgCrypt AES scheme, shared by Official Accounts,
//! the Open Platform and WeCom.
//!
//! - `signature = hex(sha1(concat(sort([token, timestamp, nonce]))))`: the plain-mode signature
//!   every Official Account callback carries. It covers the query, not the body.
//! - `msg_signature = hex(sha1(concat(sort([token, timestamp, nonce, Encrypt]))))`: safe mode
//!   and WeCom; it covers the ciphertext.
//! - `Encrypt = base64(AES-256-CBC(key, iv = key[..16], pkcs7_32(random16 ‖ be32(len) ‖ msg ‖
//!   receiveid)))`, with `key = base64(EncodingAESKey + "=")` and `receiveid` the AppID (Official
//!   Account) or CorpID (WeCom). Decryption checks `receiveid`, so a message meant for another
//!   account is refused.
//!
//! Provider docs: <https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md>,
//! <https://developer.work.weixin.qq.com/document/path/90968>.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// WXBizMsgCrypt pads to 32-byte blocks, not to the AES block size.
const PAD_BLOCK: usize = 32;

/// Tencent's EncodingAESKeys are 43 base64 characters whose last one often carries non-zero
/// trailing bits (e.g. `…B2C`); a strict decoder would refuse the official sample key.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Why a callback failed its cryptographic checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 base64 characters decoding to 32 bytes.
    #[error("encoding_aes_key must be 43 characters of [A-Za-z0-9] decoding to 32 bytes")]
    InvalidKey,
    /// The signature does not match.
    #[error("signature mismatch")]
    BadSignature,
    /// The ciphertext is not valid base64.
    #[error("ciphertext is not valid base64")]
    Base64,
    /// The ciphertext decrypted to something that is not a WXBizMsgCrypt plaintext.
    #[error("malformed ciphertext: {0}")]
    Malformed(&'static str),
    /// The ciphertext is addressed to another AppID/CorpID.
    #[error("ciphertext is addressed to another account")]
    ReceiverMismatch,
}

/// `hex(sha1(concat(sort(parts))))`, lowercase: the WeChat signature over `parts`.
pub fn signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let mut h = Sha1::new();
    for p in sorted {
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Checks a hex signature (either case) against `parts` in constant time.
pub fn verify_signature(given: &str, parts: &[&str]) -> Result<(), CryptoError> {
    let expected = signature(parts);
    let given = given.to_ascii_lowercase();
    if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(CryptoError::BadSignature)
    }
}

/// Decodes a 43-character EncodingAESKey into the 32-byte AES key.
pub fn decode_aes_key(encoding_aes_key: &str) -> Result<[u8; 32], CryptoError> {
    if encoding_aes_key.len() != 43 || !encoding_aes_key.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(CryptoError::InvalidKey);
    }
    let bytes = LENIENT
        .decode(format!("{encoding_aes_key}="))
        .map_err(|_| CryptoError::InvalidKey)?;
    bytes.try_into().map_err(|_| CryptoError::InvalidKey)
}

/// One account's message crypto: token, AES key and the receiver id (AppID or CorpID).
#[derive(Clone)]
pub struct MsgCrypt {
    token: String,
    key: [u8; 32],
    receive_id: String,
}

impl std::fmt::Debug for MsgCrypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsgCrypt")
            .field("receive_id", &self.receive_id)
            .finish_non_exhaustive()
    }
}

impl MsgCrypt {
    /// Crypto for the account `receive_id` (AppID for an Official Account, CorpID for WeCom).
    pub fn new(
        token: impl Into<String>,
        encoding_aes_key: &str,
        receive_id: impl Into<String>,
    ) -> Result<Self, CryptoError> {
        Ok(Self {
            token: token.into(),
            key: decode_aes_key(encoding_aes_key)?,
            receive_id: receive_id.into(),
        })
    }

    /// The `msg_signature` over `encrypt`.
    pub fn msg_signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        signature(&[&self.token, timestamp, nonce, encrypt])
    }

    /// Checks `msg_signature` over `encrypt`.
    pub fn verify(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<(), CryptoError> {
        verify_signature(msg_signature, &[&self.token, timestamp, nonce, encrypt])
    }

    /// Checks `msg_signature`, then decrypts `encrypt`.
    pub fn verify_and_decrypt(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<String, CryptoError> {
        self.verify(msg_signature, timestamp, nonce, encrypt)?;
        self.decrypt(encrypt)
    }

    /// Decrypts a base64 `Encrypt` value and checks that it is addressed to this account.
    pub fn decrypt(&self, encrypt: &str) -> Result<String, CryptoError> {
        let ct = STANDARD
            .decode(encrypt.trim())
            .map_err(|_| CryptoError::Base64)?;
        if ct.is_empty() || ct.len() % 16 != 0 {
            return Err(CryptoError::Malformed("length is not a multiple of 16"));
        }
        let plain = Aes256CbcDec::new_from_slices(&self.key, &self.key[..16])
            .map_err(|_| CryptoError::InvalidKey)?
            .decrypt_padded_vec_mut::<NoPadding>(&ct)
            .map_err(|_| CryptoError::Malformed("not whole blocks"))?;
        let pad = usize::from(*plain.last().ok_or(CryptoError::Malformed("empty"))?);
        if !(1..=PAD_BLOCK).contains(&pad) || pad > plain.len() {
            return Err(CryptoError::Malformed("bad padding"));
        }
        let (body, padding) = plain.split_at(plain.len() - pad);
        if padding.iter().any(|&b| usize::from(b) != pad) {
            return Err(CryptoError::Malformed("bad padding"));
        }
        let rest = body.get(16..).ok_or(CryptoError::Malformed("too short"))?;
        let (len, rest) = rest
            .split_first_chunk::<4>()
            .ok_or(CryptoError::Malformed("too short"))?;
        let len = usize::try_from(u32::from_be_bytes(*len))
            .map_err(|_| CryptoError::Malformed("length overflows"))?;
        if len > rest.len() {
            return Err(CryptoError::Malformed("length exceeds the plaintext"));
        }
        let (msg, receive_id) = rest.split_at(len);
        if !bool::from(receive_id.ct_eq(self.receive_id.as_bytes())) {
            return Err(CryptoError::ReceiverMismatch);
        }
        String::from_utf8(msg.to_vec()).map_err(|_| CryptoError::Malformed("not UTF-8"))
    }

    /// Encrypts `msg` with a random 16-byte prefix.
    pub fn encrypt(&self, msg: &str) -> String {
        let mut random = [0u8; 16];
        rand::Rng::fill(&mut rand::rng(), &mut random[..]);
        self.encrypt_with_random(&random, msg)
    }

    /// Encrypts `msg` with the given 16-byte prefix (deterministic; for test vectors).
    pub fn encrypt_with_random(&self, random: &[u8; 16], msg: &str) -> String {
        let msg = msg.as_bytes();
        let mut plain = Vec::with_capacity(20 + msg.len() + self.receive_id.len() + PAD_BLOCK);
        plain.extend_from_slice(random);
        // Callback bodies are capped far below 4 GiB; saturating keeps this total.
        plain.extend_from_slice(&u32::try_from(msg.len()).unwrap_or(u32::MAX).to_be_bytes());
        plain.extend_from_slice(msg);
        plain.extend_from_slice(self.receive_id.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        // pad is 1..=32, so it fits a byte.
        plain.resize(plain.len() + pad, pad as u8);
        let ct = Aes256CbcEnc::new_from_slices(&self.key, &self.key[..16])
            .map(|c| c.encrypt_padded_vec_mut::<NoPadding>(&plain))
            .unwrap_or_default();
        STANDARD.encode(ct)
    }

    /// Tencent's encrypted reply document (`Encrypt`, `MsgSignature`, `TimeStamp`, `Nonce`),
    /// byte for byte as the official SDKs render it.
    pub fn encrypted_xml(&self, encrypt: &str, timestamp: &str, nonce: &str) -> String {
        let sig = self.msg_signature(timestamp, nonce, encrypt);
        format!(
            "<xml>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n\
             <MsgSignature><![CDATA[{sig}]]></MsgSignature>\n\
             <TimeStamp>{timestamp}</TimeStamp>\n\
             <Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>"
        )
    }
}

#[cfg(test)]
#[path = "crypto_tests.rs"]
mod tests;
