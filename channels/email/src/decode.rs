//! Second-chance decoding of text parts, for mail whose labels lie.
//!
//! `mail-parser` decodes transfer encodings and charsets by the labels a part declares. Real mail
//! gets those wrong in two common ways, both in the fixtures: quoted-printable with characters
//! the parser rejects (an Exchange NDR in GB2312), and UTF-8 text labelled with a legacy charset
//! (`x-mac-cyrillic`). For such parts this module decodes the raw body leniently and picks the
//! reading that makes sense.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

/// The part's text (HTML source for HTML parts), re-decoded when the labels look wrong.
/// Returns the text and, when it was re-decoded, a note for the warnings.
pub(crate) fn part_text(
    msg: &Message<'_>,
    part: &MessagePart<'_>,
) -> Option<(String, Option<String>)> {
    let parsed = match &part.body {
        PartType::Text(t) | PartType::Html(t) => t.as_ref(),
        _ => return None,
    };
    let label = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .unwrap_or("us-ascii")
        .trim()
        .to_ascii_lowercase();
    let declared_utf8 = matches!(label.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii");
    if declared_utf8 && !part.is_encoding_problem {
        return Some((parsed.to_owned(), None));
    }
    let Some(raw) = msg
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)
    else {
        return Some((parsed.to_owned(), None));
    };
    let cte = part
        .content_transfer_encoding()
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let bytes = match cte.as_str() {
        "quoted-printable" => quoted_printable(raw),
        "base64" => base64_lenient(raw),
        _ => raw.to_vec(),
    };
    if !declared_utf8
        && let Ok(s) = std::str::from_utf8(&bytes)
        && !s.is_ascii()
    {
        let note = format!("a part labelled charset {label:?} was UTF-8 and was decoded as such");
        return Some((s.to_owned(), Some(note)));
    }
    if part.is_encoding_problem {
        let encoding =
            encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::WINDOWS_1252);
        let (text, _, _) = encoding.decode(&bytes);
        let note = format!("a part with broken {cte} encoding was decoded leniently");
        return Some((text.into_owned(), Some(note)));
    }
    Some((parsed.to_owned(), None))
}

/// Quoted-printable that keeps going: `=XX` is a byte, `=` at a line end is a soft break,
/// anything else is taken literally.
fn quoted_printable(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        let hex = |c: u8| (c as char).to_digit(16);
        match (raw.get(i + 1).copied(), raw.get(i + 2).copied()) {
            (Some(b'\r'), Some(b'\n')) => i += 3,
            (Some(b'\n'), _) => i += 2,
            (Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            _ => {
                out.push(b'=');
                i += 1;
            }
        }
    }
    out
}

/// Base64 that skips characters outside the alphabet and a dangling partial group.
fn base64_lenient(raw: &[u8]) -> Vec<u8> {
    let mut clean: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        .collect();
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    engine.decode(&clean).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_transfer_decoding() {
        assert_eq!(quoted_printable(b"a=3Db=\r\nc=\nd=ZZ`"), b"a=bcd=ZZ`");
        assert_eq!(base64_lenient(b"aGVs\r\nbG8=\r\n"), b"hello");
        assert_eq!(base64_lenient(b"aGVs bG8*"), b"hello");
    }
}
