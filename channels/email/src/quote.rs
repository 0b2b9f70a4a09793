//! Trims quoted reply history from a plain-text email body, for the conversation view.
//!
//! Mail clients append the message they answer below the reply: Gmail and Apple Mail after an
//! "On <date>, <name> wrote:" line and `>` quoting, Outlook after a "From: / Sent:" block (often
//! under a line of dashes or underscores), QQ Mail and NetEase after "原始邮件" separators or
//! "在 …写道：". The conversation already shows those earlier messages, so the visible text keeps
//! only what is new. The caller keeps the full original next to it.
//!
//! The rules are deliberately conservative: when a reply is written *between* quoted lines
//! (inline answers), nothing is trimmed, because cutting would hide the customer's answers.

/// The reply without the quoted history, or `None` when nothing was trimmed (no history found,
/// inline replies, or nothing would be left).
pub fn trim_quoted(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    if let Some(reply) = bottom_posted(&lines) {
        return Some(reply);
    }
    let cut = find_cut(&lines)?;
    let kept = lines[..cut].join("\n");
    let kept = kept.trim_end();
    if kept.trim().is_empty() {
        return None;
    }
    Some(kept.to_owned())
}

/// A reply written *below* one quoted block (Thunderbird's default): attribution and quote at
/// the top, then unquoted text with no further quotes. Returns that text.
fn bottom_posted(lines: &[&str]) -> Option<String> {
    let first = lines.iter().position(|l| !l.trim().is_empty())?;
    let body_start = attribution_end(lines, first).unwrap_or(first);
    let mut i = body_start;
    let mut quoted = 0;
    while i < lines.len() && (lines[i].trim().is_empty() || lines[i].trim_start().starts_with('>'))
    {
        if lines[i].trim_start().starts_with('>') {
            quoted += 1;
        }
        i += 1;
    }
    let rest = &lines[i..];
    if quoted == 0 || rest.iter().any(|l| l.trim_start().starts_with('>')) {
        return None;
    }
    let reply = rest.join("\n");
    let reply = reply.trim();
    (!reply.is_empty()).then(|| reply.to_owned())
}

fn find_cut(lines: &[&str]) -> Option<usize> {
    for i in 0..lines.len() {
        let line = lines[i].trim();
        if is_separator_header(line) {
            return Some(i);
        }
        if let Some(header_end) = attribution_end(lines, i) {
            if has_inline_replies(&lines[header_end..]) {
                return None;
            }
            return Some(i);
        }
        if is_header_block(lines, i) {
            return Some(separator_above(lines, i));
        }
    }
    trailing_quote_block(lines)
}

/// "-----Original Message-----", "------------------ 原始邮件 ------------------",
/// "---- 回复的原邮件 ----", "-------- Forwarded message --------" is *not* a quote.
fn is_separator_header(line: &str) -> bool {
    let inner = line.trim_matches(|c: char| c == '-' || c == '=' || c.is_whitespace());
    if inner.len() == line.len() {
        return false;
    }
    let lower = inner.to_lowercase();
    matches!(
        lower.as_str(),
        "original message" | "原始邮件" | "回复的原邮件" | "原邮件" | "ursprüngliche nachricht"
    ) || lower.starts_with("original message")
}

/// An attribution line ("On … wrote:", "在 … 写道：", "Le … a écrit :", "Am … schrieb …:"),
/// possibly wrapped over up to three lines. Returns the index after it.
fn attribution_end(lines: &[&str], i: usize) -> Option<usize> {
    let first = lines[i].trim();
    let starts = ["On ", "在", "Le ", "Am ", "El ", "Il ", "Op "]
        .iter()
        .any(|p| first.starts_with(p));
    if !starts {
        return None;
    }
    let mut joined = String::new();
    for (k, line) in lines.iter().enumerate().skip(i).take(3) {
        if k > i && line.trim().is_empty() {
            break;
        }
        joined.push_str(line.trim());
        joined.push(' ');
        let j = joined.trim_end();
        let ends = [
            "wrote:",
            "写道：",
            "写道:",
            "寫道：",
            "a écrit :",
            "a écrit:",
            "schrieb:",
        ]
        .iter()
        .any(|e| j.ends_with(e))
            || (j.starts_with("Am ") && j.ends_with(':') && j.contains("schrieb"))
            || (j.starts_with("El ") && j.ends_with("escribió:"));
        if ends {
            return Some(k + 1);
        }
    }
    None
}

/// Quoted lines followed by unquoted text: the customer answered inline. Scanning stops at a
/// signature or footer separator (`--`, `__…`), after which unquoted text is not an answer.
fn has_inline_replies(rest: &[&str]) -> bool {
    let mut seen_quote = false;
    for line in rest {
        let t = line.trim();
        if t.starts_with('>') {
            seen_quote = true;
        } else if t == "--" || t.starts_with("__") {
            return false;
        } else if seen_quote && !t.is_empty() {
            return true;
        }
    }
    false
}

/// Outlook's "From: … / Sent: …" block (also `*From:*`, 发件人/发送时间, De/Envoyé, Von/Gesendet).
fn is_header_block(lines: &[&str], i: usize) -> bool {
    if !header_key(lines[i], &["From", "发件人", "寄件者", "De", "Von", "Van"]) {
        return false;
    }
    lines.iter().skip(i + 1).take(4).any(|l| {
        header_key(
            l,
            &[
                "Sent",
                "Date",
                "发送时间",
                "日期",
                "時間",
                "Envoyé",
                "Gesendet",
                "Verzonden",
            ],
        )
    })
}

fn header_key(line: &str, keys: &[&str]) -> bool {
    let t = line.trim().trim_start_matches('*');
    keys.iter().any(|k| {
        t.strip_prefix(k).is_some_and(|rest| {
            let rest = rest.trim_start_matches('*').trim_start();
            rest.starts_with(':') || rest.starts_with('：')
        })
    })
}

/// Cuts at a separator line (`-----`, `_____`) right above an Outlook header block.
fn separator_above(lines: &[&str], i: usize) -> usize {
    let mut k = i;
    while k > 0 && lines[k - 1].trim().is_empty() {
        k -= 1;
    }
    if k > 0 {
        let t = lines[k - 1].trim();
        if t.len() >= 5 && t.chars().all(|c| c == '-' || c == '_' || c == '=') {
            return k - 1;
        }
    }
    i
}

/// A block of `>` lines that runs to the end of the message (blank lines allowed).
fn trailing_quote_block(lines: &[&str]) -> Option<usize> {
    let mut start = None;
    for (i, line) in lines.iter().enumerate().rev() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with('>') {
            start = Some(i);
        } else {
            break;
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).expect("fixture exists")
    }

    #[test]
    fn trims_reply_history_like_the_reference_parsers() {
        let cases: &[(&str, Option<&str>)] = &[
            // email_reply_parser: the Outlook header block is history.
            ("body-reply-outlook-01.txt", Some("Outlook with a reply")),
            // Nothing quoted: keep everything (signatures are part of the reply).
            ("body-reply-iphone-sig-01.txt", None),
            ("body-reply-sent-from-not-sig-01.txt", None),
            // Inline answers between quotes: never cut them away.
            ("body-reply-inline-01.txt", None),
            ("body-reply-quoted-01.txt", None),
        ];
        // Bottom-posting (Thunderbird): the reply is below the quote.
        assert_eq!(
            trim_quoted("On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi \nHello\n").as_deref(),
            Some("Hello")
        );
        for (name, want) in cases {
            let got = trim_quoted(&fixture(name));
            assert_eq!(got.as_deref(), *want, "{name}");
        }
    }

    #[test]
    fn recognizes_common_attributions_and_separators() {
        let cases: &[(&str, &str)] = &[
            (
                "Hello\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan <x@y.z> wrote:\n\n> Hi\n",
                "Hello",
            ),
            (
                "Hello\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan One\n<x@y.z> wrote:\n> Hi\n",
                "Hello",
            ),
            (
                "好的，谢谢\n\n在 2024年3月1日 10:00，客服 <kf@example.com> 写道：\n> 您好\n",
                "好的，谢谢",
            ),
            (
                "收到\n\n------------------ 原始邮件 ------------------\n发件人: \"客服\"<kf@example.com>;\n发送时间: 2024年3月1日\n",
                "收到",
            ),
            (
                "Yes\n\n-----Original Message-----\nFrom: a\nSent: b\n",
                "Yes",
            ),
            (
                "Yes\n________________________________\nFrom: a\nSent: b\nTo: c\n",
                "Yes",
            ),
            ("Thanks\n\n> old\n> older\n", "Thanks"),
        ];
        for (input, want) in cases {
            assert_eq!(trim_quoted(input).as_deref(), Some(*want), "{input:?}");
        }
    }

    #[test]
    fn keeps_messages_that_are_only_a_quote() {
        assert_eq!(trim_quoted("> just a quote\n> more\n"), None);
        assert_eq!(trim_quoted(""), None);
    }
}
