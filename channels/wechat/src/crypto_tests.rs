//! Every vector of PROTOCOLS.md section 1 (A1–A3, W1–W3), including the negative ones.

use super::*;

// --- A1–A3: plain signatures -------------------------------------------------------------

#[test]
fn a1_official_url_verification_signature() {
    let sig = signature(&["AAAAA", "1714036504", "1514711492"]);
    assert_eq!(sig, "f464b24fc39322e44b38aa78f5edd27bd1441696");
    verify_signature(&sig, &["AAAAA", "1714036504", "1514711492"]).expect("A1 verifies");
}

#[test]
fn a2_official_plain_post_signature() {
    assert_eq!(
        signature(&["AAAAA", "1714037059", "486452656"]),
        "899cf89e464efb63f54ddac96b0a0a235f53aa78"
    );
}

#[test]
fn a3_wechatpy_signature_valid_and_invalid() {
    let parts = ["test", "1410685589", "test"];
    verify_signature("f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", &parts).expect("valid");
    assert_eq!(
        verify_signature("f21891de399b4e33a1a93c9a7b8a8fffb5a443fe", &parts),
        Err(CryptoError::BadSignature)
    );
    // Upper-case hex is the same signature; a truncated one is not.
    verify_signature("F21891DE399B4E33A1A93C9A7B8A8FFFB5A443FF", &parts).expect("case");
    assert!(verify_signature("f21891de", &parts).is_err());
    assert!(verify_signature("", &parts).is_err());
}

// --- W1: official Tencent sample (token QDG6eK) ------------------------------------------

const W1_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const W1_ID: &str = "wx5823bf96d3bd56c7";
const W1B_ENCRYPT: &str = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==";
const W1B_PLAIN: &str = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>";

fn w1() -> MsgCrypt {
    MsgCrypt::new("QDG6eK", W1_KEY, W1_ID).expect("W1 key is valid")
}

#[test]
fn w1_key_and_iv() {
    let key = decode_aes_key(W1_KEY).expect("decodes");
    assert_eq!(
        hex::encode(key),
        "8d69989bbaabe67328014c194631ad0719b3dca035b64023df292447aab60760"
    );
    assert_eq!(hex::encode(&key[..16]), "8d69989bbaabe67328014c194631ad07");
}

#[test]
fn w1a_verify_url_decrypts_echostr() {
    // The signature covers the URL-decoded echostr.
    let echostr =
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";
    let plain = w1()
        .verify_and_decrypt(
            "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
            "1409659589",
            "263014780",
            echostr,
        )
        .expect("W1a verifies and decrypts");
    assert_eq!(plain, "1616140317555161061");
}

#[test]
fn w1b_decrypts_the_official_message() {
    let c = w1();
    assert_eq!(
        c.msg_signature("1409659813", "1372623149", W1B_ENCRYPT),
        "477715d11cdb4164915debcba66cb864d751f3e6"
    );
    let plain = c
        .verify_and_decrypt(
            "477715d11cdb4164915debcba66cb864d751f3e6",
            "1409659813",
            "1372623149",
            W1B_ENCRYPT,
        )
        .expect("W1b decrypts");
    assert_eq!(plain, W1B_PLAIN);
    assert_eq!(plain.len(), 284);
}

#[test]
fn w1b_negative_cases() {
    let c = w1();
    // A tampered timestamp breaks the signature.
    assert_eq!(
        c.verify_and_decrypt(
            "477715d11cdb4164915debcba66cb864d751f3e6",
            "1409659814",
            "1372623149",
            W1B_ENCRYPT
        ),
        Err(CryptoError::BadSignature)
    );
    // Another AppID must not accept the ciphertext.
    let other = MsgCrypt::new("QDG6eK", W1_KEY, "wx0000000000000000").expect("key");
    assert_eq!(
        other.decrypt(W1B_ENCRYPT),
        Err(CryptoError::ReceiverMismatch)
    );
    // The doc's typo'd id is not the real receiver either.
    let typo = MsgCrypt::new("QDG6eK", W1_KEY, "ax5823bf96d3bd56c7").expect("key");
    assert_eq!(
        typo.decrypt(W1B_ENCRYPT),
        Err(CryptoError::ReceiverMismatch)
    );
    // Another key yields garbage, which must be refused rather than returned.
    let wrong_key = MsgCrypt::new("QDG6eK", W2_KEY, W1_ID).expect("key");
    assert!(wrong_key.decrypt(W1B_ENCRYPT).is_err());
    // Not base64, truncated.
    assert_eq!(c.decrypt("%%%"), Err(CryptoError::Base64));
    assert!(c.decrypt(&W1B_ENCRYPT[..40]).is_err());
    assert!(c.decrypt("").is_err());
}

// --- W2: Tencent callback/Sample.py ------------------------------------------------------

const W2_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

fn w2() -> MsgCrypt {
    MsgCrypt::new(
        "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
        W2_KEY,
        "ww1436e0e65a779aee",
    )
    .expect("W2 key is valid")
}

#[test]
fn w2_key() {
    assert_eq!(
        hex::encode(decode_aes_key(W2_KEY).expect("decodes")),
        "eaa91d32babaf274ca76ece72583b5037ed6da8120a64314be4b6d453a2a854b"
    );
}

#[test]
fn w2a_verify_url() {
    let plain = w2()
        .verify_and_decrypt(
            "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
            "1476416373",
            "47744683",
            "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
        )
        .expect("W2a");
    assert_eq!(plain, "1288432023552776189");
}

#[test]
fn w2b_decrypts_utf8_with_byte_length() {
    let encrypt = "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+";
    let plain = w2()
        .verify_and_decrypt(
            "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
            "1476422779",
            "1597212914",
            encrypt,
        )
        .expect("W2b");
    assert_eq!(
        plain,
        "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>"
    );
    assert_eq!(plain.len(), 228);
    assert!(
        w2().verify_and_decrypt(
            "0c3914025cb4b4d68103f6bfc8db550f79dcf48f",
            "1476422779",
            "1597212914",
            encrypt
        )
        .is_err()
    );
}

// --- W3: wechatpy tests/test_crypto.py ---------------------------------------------------

fn w3() -> MsgCrypt {
    MsgCrypt::new(
        "123456",
        "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
        "wx49f0ab532d5d035a",
    )
    .expect("W3 key is valid")
}

#[test]
fn w3a_check_signature_and_wrong_nonce() {
    let echostr =
        "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==";
    let sig = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96";
    let plain = w3()
        .verify_and_decrypt(sig, "1411443780", "437374425", echostr)
        .expect("W3a");
    assert_eq!(plain, "5927782489442352469");
    assert_eq!(
        w3().verify_and_decrypt(sig, "1411443780", "437374424", echostr),
        Err(CryptoError::BadSignature)
    );
}

const W3B_ENCRYPT: &str = "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=";

#[test]
fn w3b_decrypt_with_pad_byte_one() {
    let plain = w3()
        .verify_and_decrypt(
            "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
            "1411525903",
            "461056294",
            W3B_ENCRYPT,
        )
        .expect("W3b");
    assert_eq!(
        plain,
        "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<FromUserName><![CDATA[messense]]></FromUserName>\n<CreateTime>1411525903</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<MsgId>4363689963896700987</MsgId>\n<AgentID>1</AgentID>\n</xml>"
    );
}

#[test]
fn w3c_deterministic_encrypt_matches_byte_for_byte() {
    let reply = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
    let c = w3();
    let encrypt = c.encrypt_with_random(b"1234567890123456", reply);
    let xml = c.encrypted_xml(&encrypt, "1411525903", "461056294");
    let expected = "<xml>\n<Encrypt><![CDATA[9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3]]></Encrypt>\n<MsgSignature><![CDATA[407518b7649e86ef23978113f92d27afa9296533]]></MsgSignature>\n<TimeStamp>1411525903</TimeStamp>\n<Nonce><![CDATA[461056294]]></Nonce>\n</xml>";
    assert_eq!(xml, expected);
    assert_eq!(c.decrypt(&encrypt).as_deref(), Ok(reply));
}

// --- round trips and key validation ------------------------------------------------------

#[test]
fn random_encrypt_round_trips_and_differs() {
    let c = w2();
    let msg = "你好, world";
    let a = c.encrypt(msg);
    let b = c.encrypt(msg);
    assert_ne!(a, b, "the random prefix must vary");
    assert_eq!(c.decrypt(&a).as_deref(), Ok(msg));
    assert_eq!(c.decrypt(&b).as_deref(), Ok(msg));
}

#[test]
fn padding_covers_every_length_mod_32() {
    let c = w3();
    for n in 0..70 {
        let msg = "x".repeat(n);
        let enc = c.encrypt(&msg);
        assert_eq!(c.decrypt(&enc).as_deref(), Ok(msg.as_str()), "length {n}");
    }
}

#[test]
fn rejects_malformed_keys() {
    for key in [
        "",
        "short",
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2", // 42
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2CC", // 44
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2+", // not alphanumeric
    ] {
        assert_eq!(decode_aes_key(key), Err(CryptoError::InvalidKey), "{key:?}");
    }
}
