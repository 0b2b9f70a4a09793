//! Safe parsing of WeChat callback XML.
//!
//! WeChat callbacks are flat `<xml>` documents whose children hold one value each, usually in
//! CDATA (`<Content><![CDATA[hi]]></Content>`), with a few nested groups such as
//! `<SendLocationInfo>`. [`XmlDoc`] reads such a document into `(path, value)` pairs without ever
//! touching a DTD: a body that mentions `<!DOCTYPE` or `<!ENTITY` is refused before parsing, only
//! the five predefined entities and character references are resolved, and depth and element
//! count are capped. Provider wire types built on it stay private to this crate.

use quick_xml::Reader;
use quick_xml::events::Event;

/// Deeper nesting than any WeChat callback uses.
const MAX_DEPTH: usize = 8;
/// More elements than any WeChat callback has.
const MAX_ELEMENTS: usize = 512;

/// Why a callback body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// The body declares a DTD or entities, which WeChat never sends.
    #[error("document type declarations are not accepted")]
    Dtd,
    /// The body is not well-formed XML (or not UTF-8).
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// The root element is not `<xml>`.
    #[error("the root element must be <xml>")]
    Root,
    /// The document is nested deeper or has more elements than a callback can.
    #[error("document too large or too deep")]
    TooLarge,
    /// A required field is missing.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// A field has a value of the wrong form.
    #[error("invalid field {0}")]
    Invalid(&'static str),
}

/// The leaf values of a callback document, keyed by their path below the root
/// (`Content`, `SendLocationInfo/Label`), in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlDoc {
    fields: Vec<(String, String)>,
}

struct Open {
    name: String,
    value: String,
    has_cdata: bool,
    has_children: bool,
}

impl XmlDoc {
    /// Parses a callback body.
    pub fn parse(body: &str) -> Result<Self, XmlError> {
        let upper = body.to_ascii_uppercase();
        if upper.contains("<!DOCTYPE") || upper.contains("<!ENTITY") {
            return Err(XmlError::Dtd);
        }
        let mut reader = Reader::from_str(body);
        reader.config_mut().check_end_names = true;
        let mut stack: Vec<Open> = Vec::new();
        let mut fields = Vec::new();
        let mut elements = 0usize;
        let mut root_seen = false;
        loop {
            let ev = reader
                .read_event()
                .map_err(|e| XmlError::Malformed(e.to_string()))?;
            match ev {
                Event::Start(_) | Event::Empty(_) if stack.is_empty() && root_seen => {
                    return Err(XmlError::Malformed("content after the root element".into()));
                }
                Event::Start(start) => {
                    elements += 1;
                    if stack.len() >= MAX_DEPTH || elements > MAX_ELEMENTS {
                        return Err(XmlError::TooLarge);
                    }
                    let name = std::str::from_utf8(start.name().as_ref())
                        .map_err(|_| XmlError::Malformed("element name is not UTF-8".into()))?
                        .to_owned();
                    if stack.is_empty() && name != "xml" {
                        return Err(XmlError::Root);
                    }
                    root_seen = true;
                    if let Some(parent) = stack.last_mut() {
                        parent.has_children = true;
                    }
                    stack.push(Open {
                        name,
                        value: String::new(),
                        has_cdata: false,
                        has_children: false,
                    });
                }
                Event::Empty(start) => {
                    elements += 1;
                    if elements > MAX_ELEMENTS {
                        return Err(XmlError::TooLarge);
                    }
                    let name = std::str::from_utf8(start.name().as_ref())
                        .map_err(|_| XmlError::Malformed("element name is not UTF-8".into()))?
                        .to_owned();
                    let Some(parent) = stack.last_mut() else {
                        return Err(XmlError::Root);
                    };
                    parent.has_children = true;
                    fields.push((path(&stack, &name), String::new()));
                }
                Event::End(_) => {
                    let Some(open) = stack.pop() else {
                        return Err(XmlError::Malformed("unbalanced end tag".into()));
                    };
                    if !stack.is_empty() && !open.has_children {
                        let value = if open.has_cdata {
                            open.value
                        } else {
                            open.value.trim().to_owned()
                        };
                        fields.push((path(&stack, &open.name), value));
                    }
                }
                Event::Text(t) => {
                    let text = t.decode().map_err(|e| XmlError::Malformed(e.to_string()))?;
                    match stack.last_mut() {
                        Some(open) => open.value.push_str(&text),
                        None if text.trim().is_empty() => {}
                        None => return Err(XmlError::Malformed("text outside the root".into())),
                    }
                }
                Event::CData(c) => {
                    let text = std::str::from_utf8(c.as_ref())
                        .map_err(|_| XmlError::Malformed("CDATA is not UTF-8".into()))?;
                    let Some(open) = stack.last_mut() else {
                        return Err(XmlError::Malformed("CDATA outside the root".into()));
                    };
                    // Whitespace around a CDATA section is layout, not content.
                    if !open.has_cdata && open.value.trim().is_empty() {
                        open.value.clear();
                    }
                    open.has_cdata = true;
                    open.value.push_str(text);
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => {
                            let name =
                                r.decode().map_err(|e| XmlError::Malformed(e.to_string()))?;
                            quick_xml::escape::resolve_predefined_entity(&name)
                                .ok_or_else(|| {
                                    XmlError::Malformed("unknown entity reference".into())
                                })?
                                .to_owned()
                        }
                        Err(e) => return Err(XmlError::Malformed(e.to_string())),
                    };
                    if let Some(open) = stack.last_mut() {
                        open.value.push_str(&resolved);
                    }
                }
                Event::DocType(_) => return Err(XmlError::Dtd),
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
                Event::Eof => break,
            }
        }
        if !stack.is_empty() {
            return Err(XmlError::Malformed("unexpected end of document".into()));
        }
        if !root_seen {
            return Err(XmlError::Root);
        }
        Ok(Self { fields })
    }

    /// The first value at `path`.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == path)
            .map(|(_, v)| v.as_str())
    }

    /// The first value at `path`, or an error naming it.
    pub fn require(&self, path: &'static str) -> Result<&str, XmlError> {
        self.get(path).ok_or(XmlError::Missing(path))
    }

    /// The first non-empty value at `path`.
    pub fn non_empty(&self, path: &str) -> Option<&str> {
        self.get(path).filter(|v| !v.is_empty())
    }
}

fn path(stack: &[Open], leaf: &str) -> String {
    // stack[0] is the root <xml>, which paths leave out.
    let mut p = String::new();
    for open in stack.iter().skip(1) {
        p.push_str(&open.name);
        p.push('/');
    }
    p.push_str(leaf);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cdata_text_and_nested_values() {
        let doc = XmlDoc::parse(
            "<xml><A><![CDATA[ keep  spaces ]]></A><B> 42 </B><C>a &amp; b &#x4F60;</C>\
             <G><Inner><![CDATA[x]]></Inner><Inner>y</Inner></G><E/></xml>",
        )
        .expect("parses");
        assert_eq!(doc.get("A"), Some(" keep  spaces "));
        assert_eq!(doc.get("B"), Some("42"));
        assert_eq!(doc.get("C"), Some("a & b 你"));
        assert_eq!(doc.get("G/Inner"), Some("x"));
        assert_eq!(doc.get("E"), Some(""));
        assert_eq!(doc.get("G"), None, "a group has no value of its own");
    }

    #[test]
    fn refuses_dtds_and_entities() {
        for body in [
            "<!DOCTYPE xml [<!ENTITY x \"boom\">]><xml><A>&x;</A></xml>",
            "<!doctype xml><xml/>",
            "<xml><A>&x;</A></xml>",
            "<xml><!ENTITY x SYSTEM \"file:///etc/passwd\"></xml>",
        ] {
            assert!(XmlDoc::parse(body).is_err(), "{body}");
        }
        assert_eq!(
            XmlDoc::parse("<!DOCTYPE xml><xml/>"),
            Err(XmlError::Dtd),
            "a DTD is refused before parsing"
        );
    }

    #[test]
    fn refuses_malformed_documents() {
        for body in [
            "",
            "not xml",
            "<xml><A>1</B></xml>",
            "<xml><A>1</A>",
            "<root><A>1</A></root>",
            "<xml/><xml/>",
            "<xml></xml>trailing",
        ] {
            assert!(XmlDoc::parse(body).is_err(), "{body:?}");
        }
    }

    #[test]
    fn caps_depth() {
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(20), "</a>".repeat(20));
        assert_eq!(XmlDoc::parse(&deep), Err(XmlError::TooLarge));
        let wide = format!("<xml>{}</xml>", "<a>1</a>".repeat(MAX_ELEMENTS + 1));
        assert_eq!(XmlDoc::parse(&wide), Err(XmlError::TooLarge));
    }
}
