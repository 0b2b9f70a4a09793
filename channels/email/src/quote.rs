//! Trims quoted reply history from a plain-text email body, for the conversation view.
//!
//! Mail clients append the message they answer below the reply: Gmail and Apple Mail after an
//! "On <date>, <name> wrote:" line and `>` quoting, Outlook after a "From: / Sent:" block (often
//! under a line of dashes or underscores), Samsung Email after "-------- Original message
//! --------" and a From/Date block, QQ Mail and NetEase after "原始邮件" separators or
//! "在 …写道：". Each client writes these in the user's language (Chinese, Japanese, Korean,
//! Russian, German, French, Spanish, Portuguese... are covered), and long attribution lines
//! come wrapped over two or three lines. The conversation already shows those earlier messages,
//! so the visible text keeps only what is new. The caller keeps the full original next to it.
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
    let body_start = match attribution(lines, first) {
        Some((start, end)) if start == first => end,
        _ => first,
    };
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
        if let Some((start, end)) = attribution(lines, i) {
            if has_inline_replies(&lines[end..]) {
                return None;
            }
            return Some(start);
        }
        if is_header_block(lines, i) {
            return Some(separator_above(lines, i));
        }
    }
    trailing_quote_block(lines)
}

/// "-----Original Message-----", "------------------ 原始邮件 ------------------",
/// "-------- Исходное сообщение --------" (Samsung Email, localized),
/// "---- 回复的原邮件 ----"; "-------- Forwarded message --------" is *not* a quote.
fn is_separator_header(line: &str) -> bool {
    let inner = line.trim_matches(|c: char| c == '-' || c == '=' || c.is_whitespace());
    if inner.len() == line.len() {
        return false;
    }
    let lower = inner.to_lowercase();
    ORIGINAL_MESSAGE.contains(&lower.as_str()) || lower.starts_with("original message")
}

/// "Original message" as Outlook, Samsung Email and Chinese webmail write it.
const ORIGINAL_MESSAGE: &[&str] = &[
    "original message",
    "原始邮件",
    "回复的原邮件",
    "原邮件",
    "原始信息",
    "原始郵件",
    "ursprüngliche nachricht",
    "message d'origine",
    "message d’origine",
    "mensaje original",
    "mensagem original",
    "messaggio originale",
    "oorspronkelijk bericht",
    "исходное сообщение",
    "исходное письмо",
    "пересланное сообщение от",
    "元のメッセージ",
    "オリジナルメッセージ",
    "원본 메시지",
    "원본 메일",
];

/// Words an attribution line ends with before its colon, lowercase ("wrote:",
/// "a écrit :", "написал(а):", "写道：", "님이 작성:", "のメール:"...).
const WROTE: &[&str] = &[
    "wrote",
    "writes",
    "écrit",
    "escribió",
    "escreveu",
    "schrieb",
    "scritto",
    "schreef",
    "написал(а)",
    "написал",
    "написала",
    "пишет",
    "写道",
    "寫道",
    "のメール",
    "のメッセージ",
    "書きました",
    "작성",
    "쓴 글",
    "napisał(a)",
    "napisał",
    "pisze",
    "skrev",
    "kirjoitti",
];

/// Openings of attribution lines that may follow reply text without a blank line between.
const OPENINGS: &[&str] = &["On ", "在", "Le ", "Am ", "El ", "Em ", "Il ", "Op "];

/// How an attribution ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// A "wrote" word: "… wrote:", "Am … schrieb Anna <a@example.com>:".
    Wrote,
    /// Only the quoted author's address, as Gmail writes it in Russian and Japanese
    /// ("пн, 4 мар. 2024 г. в 10:15, Анна <anna@example.com>:").
    Address,
}

fn ending(text: &str) -> Option<Ending> {
    let body = text
        .trim_end()
        .strip_suffix([':', '：'])?
        .trim_end()
        .to_lowercase();
    // German, Dutch and Scandinavian put the verb before the name: "Am … schrieb Anna:".
    let verb_second = ["schrieb", "schreef", "skrev"]
        .iter()
        .any(|w| body.contains(&format!(" {w} ")));
    if verb_second || WROTE.iter().any(|w| body.ends_with(w)) {
        return Some(Ending::Wrote);
    }
    let (_, addr) = body.strip_suffix('>')?.rsplit_once('<')?;
    addr.contains('@').then_some(Ending::Address)
}

/// An attribution line ("On … wrote:", "在 … 写道：", "Am … schrieb …:", "… 님이 작성:",
/// "пн, 4 мар. 2024 г. в 10:15, Анна <anna@example.com>:"), possibly wrapped over up to three
/// lines, looked for from line `i`. Returns where it starts (`i`, or a later line when reply
/// text sits right above it) and the index after it.
///
/// It starts a paragraph, or with a known opening ("On ", "Le "...). It needs a date or an
/// address, or quoted lines right after it; one that ends with the address alone needs both a
/// date and the quote.
fn attribution(lines: &[&str], i: usize) -> Option<(usize, usize)> {
    let first = lines[i].trim();
    let opening = OPENINGS.iter().any(|p| first.starts_with(p));
    let paragraph_start = i == 0 || {
        let above = lines[i - 1].trim();
        above.is_empty() || above.starts_with('>')
    };
    if first.is_empty() || !(paragraph_start || opening) {
        return None;
    }
    for k in i..lines.len().min(i + 3) {
        let t = lines[k].trim();
        // A blank or quoted line ends the header; a known opening begins another one (the
        // text above it is the reply).
        if k > i
            && (t.is_empty() || t.starts_with('>') || OPENINGS.iter().any(|p| t.starts_with(p)))
        {
            break;
        }
        if !is_attribution(lines, i, k) {
            continue;
        }
        // A paragraph that only ends in a header: the header begins at the first later line
        // that holds a date of its own (wrapped headers carry the date on their first line).
        let start = (i + 1..=k)
            .filter(|_| !opening)
            .find(|&j| dated(lines[j]) && is_attribution(lines, j, k))
            .unwrap_or(i);
        return Some((start, k + 1));
    }
    None
}

/// Whether lines `from..=to`, joined, are an attribution.
fn is_attribution(lines: &[&str], from: usize, to: usize) -> bool {
    let joined = lines[from..=to]
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ");
    let Some(end) = ending(&joined) else {
        return false;
    };
    let quoted_next = lines[to + 1..]
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .is_some_and(|l| l.starts_with('>'));
    let ok = match end {
        Ending::Wrote => dated(&joined) || joined.contains('@') || quoted_next,
        Ending::Address => dated(&joined) && quoted_next,
    };
    ok && joined.chars().count() <= 400
}

/// Whether `text` has a digit outside `<…>` (a date or time, not an address).
fn dated(text: &str) -> bool {
    let mut depth = 0u32;
    text.chars().any(|c| {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ => {}
        }
        depth == 0 && c.is_ascii_digit()
    })
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

/// `From:` in the header blocks of Outlook and Samsung Email, localized.
const FROM_KEYS: &[&str] = &[
    "From",
    "发件人",
    "寄件者",
    "寄件人",
    "De",
    "Von",
    "Van",
    "Da",
    "От",
    "差出人",
    "보낸 사람",
    "Od",
];

/// `Sent:` / `Date:` in those blocks, localized.
const SENT_KEYS: &[&str] = &[
    "Sent",
    "Date",
    "发送时间",
    "日期",
    "時間",
    "寄件日期",
    "Envoyé",
    "Gesendet",
    "Datum",
    "Verzonden",
    "Enviado el",
    "Enviado em",
    "Enviada em",
    "Enviado",
    "Fecha",
    "Data",
    "Inviato",
    "Отправлено",
    "Дата",
    "送信日時",
    "日付",
    "보낸 날짜",
    "날짜",
    "Wysłano",
];

/// Outlook's "From: … / Sent: …" block (also `*From:*`, 发件人/发送时间, De/Envoyé, Von/Gesendet,
/// От/Отправлено, 差出人/送信日時, 보낸 사람/보낸 날짜, De/Enviado, and Samsung Email's
/// From/Date).
fn is_header_block(lines: &[&str], i: usize) -> bool {
    header_key(lines[i], FROM_KEYS)
        && lines
            .iter()
            .skip(i + 1)
            .take(4)
            .any(|l| header_key(l, SENT_KEYS))
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

#[cfg(test)]
#[path = "quote_tests.rs"]
mod localized_tests;
