//! The console's copy of the server vocabulary (`assets/console/vocab.js`) is generated from
//! the Rust side: conversation statuses, roles, event types and every error code the gateway's
//! handlers can answer with. This test renders the file and fails when the committed one
//! differs, so the console cannot drift from the API; `KEFU_WRITE_VOCAB=1` rewrites it:
//!
//! ```text
//! KEFU_WRITE_VOCAB=1 cargo test -p kefu-gateway --test vocab
//! ```
//!
//! Error codes are `&'static str` literals at their call sites, so they are collected from the
//! gateway's sources: the code argument of `ApiError::new(status, "code", ..)` (and
//! `Self::new` in `error.rs`), `code: "..."` fields and `"code": "..."` JSON keys (socket error
//! frames). The console's `errors.js` must then carry an English and a zh-CN message for each
//! (checked by `tsc`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use kefu_dispatcher::webhook::EventType;
use kefu_gateway::auth::Role;
use kefu_normalizer::Status;

/// A reply's delivery status as the message view carries it (`normalizer`'s delivery records).
const DELIVERY_STATUSES: [&str; 4] = ["pending", "sent", "delivered", "failed"];

/// Every role, least to most powerful. The match makes a new variant a compile error here.
fn roles() -> Vec<Role> {
    let all = [Role::Agent, Role::Supervisor, Role::Admin];
    for r in all {
        match r {
            Role::Agent | Role::Supervisor | Role::Admin => {}
        }
    }
    assert!(
        all.windows(2).all(|w| w[0] < w[1]),
        "roles are listed in order of power"
    );
    all.to_vec()
}

fn gateway_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("the gateway's source folder is readable")
        .map(|e| e.expect("a readable directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The string literal at the start of `s` (after blanks), if it is a snake_case code.
fn leading_code(s: &str) -> Option<&str> {
    let s = s.trim_start();
    let rest = s.strip_prefix('"')?;
    let end = rest.find('"')?;
    let lit = &rest[..end];
    let snake = !lit.is_empty()
        && lit.starts_with(|c: char| c.is_ascii_lowercase())
        && lit
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    snake.then_some(lit)
}

/// What follows the first argument of a call whose `(` was just passed: the text after the
/// top-level comma.
fn after_first_arg(s: &str) -> Option<&str> {
    let mut depth = 0i32;
    let mut in_str = false;
    let mut prev = '\0';
    for (i, c) in s.char_indices() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '(' | '[' | '{' if !in_str => depth += 1,
            ')' | ']' | '}' if !in_str => {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
            }
            ',' if !in_str && depth == 0 => return Some(&s[i + 1..]),
            _ => {}
        }
        prev = c;
    }
    None
}

/// Error codes used in one source file (comments and test modules are skipped).
fn codes_in(src: &str, out: &mut BTreeSet<String>) {
    let src = src.split("#[cfg(test)]").next().unwrap_or(src);
    let code: String = src
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let src = code.as_str();
    for call in ["ApiError::new(", "Self::new("] {
        for (at, _) in src.match_indices(call) {
            let rest = &src[at + call.len()..];
            if let Some(code) = after_first_arg(rest).and_then(leading_code) {
                out.insert(code.to_owned());
            }
        }
    }
    for key in ["code: ", "\"code\": "] {
        for (at, _) in src.match_indices(key) {
            if let Some(code) = leading_code(&src[at + key.len()..]) {
                out.insert(code.to_owned());
            }
        }
    }
}

fn error_codes() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&gateway_dir().join("src"), &mut files);
    let mut codes = BTreeSet::new();
    for f in files {
        let src = std::fs::read_to_string(&f).expect("a readable source file");
        codes_in(&src, &mut codes);
    }
    codes
}

fn js_list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let quoted: Vec<String> = items
        .into_iter()
        .map(|s| format!("\"{}\"", s.as_ref()))
        .collect();
    format!("/** @type {{const}} */ ([{}])", quoted.join(", "))
}

fn render() -> String {
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    let open: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    let roles: Vec<&str> = roles().into_iter().map(Role::as_str).collect();
    let events: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "// The server's vocabulary, generated from the Rust enums and error codes by the gateway test"
    );
    let _ = writeln!(
        w,
        "// `vocab` (gateway/tests/vocab.rs). Do not edit by hand: run"
    );
    let _ = writeln!(
        w,
        "// `KEFU_WRITE_VOCAB=1 cargo test -p kefu-gateway --test vocab` to rewrite it."
    );
    let mut item = |doc: &str, name: &str, list: String| {
        let _ = writeln!(w, "\n/** {doc} */\nexport const {name} = {list};");
    };
    item(
        "Conversation statuses (`kefu_normalizer::Status`).",
        "CONVERSATION_STATUSES",
        js_list(&statuses),
    );
    item(
        "The statuses of an open conversation (`Status::is_open`).",
        "OPEN_STATUSES",
        js_list(&open),
    );
    item(
        "Agent roles, least to most powerful (`kefu_gateway::auth::Role`).",
        "ROLES",
        js_list(&roles),
    );
    item(
        "Agent presence.",
        "AGENT_STATUSES",
        js_list(kefu_normalizer::AgentStatus::ALL.map(kefu_normalizer::AgentStatus::as_str)),
    );
    item(
        "A reply's delivery status.",
        "DELIVERY_STATUSES",
        js_list(DELIVERY_STATUSES),
    );
    item(
        "Event types of webhooks and the agent socket (`kefu_dispatcher::webhook::EventType`).",
        "EVENT_TYPES",
        js_list(&events),
    );
    item(
        "What a line of a conversation's timeline says happened (`kefu_normalizer::ActivityKind`).",
        "ACTIVITY_KINDS",
        js_list(kefu_normalizer::ActivityKind::ALL.map(kefu_normalizer::ActivityKind::as_str)),
    );
    item(
        "Every `code` an API error or an agent socket error frame can carry.",
        "ERROR_CODES",
        js_list(error_codes()),
    );
    out.push('\n');
    for (name, list) in [
        ("ConversationStatus", "CONVERSATION_STATUSES"),
        ("Role", "ROLES"),
        ("AgentStatus", "AGENT_STATUSES"),
        ("DeliveryStatus", "DELIVERY_STATUSES"),
        ("EventType", "EVENT_TYPES"),
        ("ActivityKind", "ACTIVITY_KINDS"),
        ("ErrorCode", "ERROR_CODES"),
    ] {
        let _ = writeln!(out, "/** @typedef {{typeof {list}[number]}} {name} */");
    }
    out
}

#[test]
fn console_vocabulary_matches_the_server() {
    let path = gateway_dir().join("assets/console/vocab.js");
    let want = render();
    if std::env::var_os("KEFU_WRITE_VOCAB").is_some() {
        std::fs::write(&path, &want).expect("vocab.js is writable");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "assets/console/vocab.js is out of date with the server; rewrite it with\n  \
         KEFU_WRITE_VOCAB=1 cargo test -p kefu-gateway --test vocab\nand give every new error \
         code a message in assets/console/errors.js.\n--- expected ---\n{want}"
    );
}

#[test]
fn error_codes_are_found_at_their_call_sites() {
    let mut codes = BTreeSet::new();
    codes_in(
        r#"
        fn a() { ApiError::new(StatusCode::CONFLICT, "agent_at_capacity", format!("x, {y}")) }
        fn b() { ApiError::new(
            status,
            "invalid_body",
            detail,
        ) }
        fn c() { Self::new(StatusCode::UNAUTHORIZED, "unauthorized", d) }
        fn d() { Frame { code: "bad_frame", detail: "x".into() } }
        fn e() { json!({"type": "error", "code": "forbidden_origin"}) }
        fn f() { ApiError::new(StatusCode::OK, code_var, "Not a code") }
        //! Errors look like `{"code": "snake_case", "detail": "..."}`.
        #[cfg(test)]
        mod tests { fn g() { ApiError::new(s, "only_in_tests", "") } }
        "#,
        &mut codes,
    );
    let got: Vec<&str> = codes.iter().map(String::as_str).collect();
    assert_eq!(
        got,
        [
            "agent_at_capacity",
            "bad_frame",
            "forbidden_origin",
            "invalid_body",
            "unauthorized"
        ]
    );
    // The real sources: the helpers of `ApiError` and a few codes known to be sent.
    let real = error_codes();
    for code in [
        "invalid_request",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "internal",
        "invalid_credentials",
    ] {
        assert!(
            real.contains(code),
            "{code} is missing from the collected codes"
        );
    }
}
