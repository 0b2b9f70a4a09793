//! WeChat callback XML ([`XmlDoc::parse`]): any bytes are parsed or refused without a panic,
//! a document with a DTD is never accepted, and what parses can be read back.

#![no_main]

use kefu_channel_wechat::xml::{XmlDoc, XmlError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The callback route refuses non-UTF-8 bodies before parsing.
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    match XmlDoc::parse(body) {
        Ok(doc) => {
            let upper = body.to_ascii_uppercase();
            assert!(!upper.contains("<!DOCTYPE") && !upper.contains("<!ENTITY"));
            for field in [
                "ToUserName",
                "FromUserName",
                "MsgType",
                "Content",
                "Encrypt",
            ] {
                if let Some(v) = doc.non_empty(field) {
                    assert_eq!(doc.get(field), Some(v));
                    assert_eq!(doc.require("ToUserName").ok(), doc.get("ToUserName"));
                }
            }
        }
        Err(XmlError::Missing(_) | XmlError::Invalid(_)) => {
            panic!("parsing reports only document errors, not field errors")
        }
        Err(_) => {}
    }
});
