//! The placeholders of a canned response: `{{contact.name}}`, or with a fallback for when the
//! value is missing, `{{contact.name | there}}`. Checking refuses a placeholder that names no
//! known variable (or is never closed), so a typo is caught when the response is saved rather
//! than sent to a customer; filling replaces each placeholder with its value, else its
//! fallback, else nothing.

use std::fmt;

/// Every variable a canned response may use, as written between the braces.
pub const VARIABLES: [&str; 5] = [
    "contact.name",
    "contact.email",
    "agent.name",
    "agent.email",
    "conversation.id",
];

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A placeholder names no known variable.
    UnknownVariable(String),
    /// A `{{` has no `}}` after it.
    Unclosed,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownVariable(name) => write!(
                f,
                "content uses the unknown variable {{{{{name}}}}}; the variables are {}",
                VARIABLES.join(", ")
            ),
            Self::Unclosed => f.write_str("content has a {{ without a closing }}"),
        }
    }
}

impl std::error::Error for TemplateError {}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part<'a> {
    Text(&'a str),
    Var { name: &'a str, fallback: &'a str },
}

/// Splits `template` into text and placeholders. A `{{` with no `}}` after it ends the
/// template as text, flagged by the second value.
fn parts(template: &str) -> (Vec<Part<'_>>, bool) {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open + 2..].find("}}") else {
            out.push(Part::Text(rest));
            return (out, true);
        };
        if open > 0 {
            out.push(Part::Text(&rest[..open]));
        }
        let inner = &rest[open + 2..open + 2 + close];
        let (name, fallback) = inner.split_once('|').unwrap_or((inner, ""));
        out.push(Part::Var {
            name: name.trim(),
            fallback: fallback.trim(),
        });
        rest = &rest[open + 2 + close + 2..];
    }
    if !rest.is_empty() {
        out.push(Part::Text(rest));
    }
    (out, false)
}

/// Fails on the first placeholder that names no known variable, or on a `{{` never closed.
pub fn check(template: &str) -> Result<(), TemplateError> {
    let (parts, unclosed) = parts(template);
    for p in parts {
        if let Part::Var { name, .. } = p
            && !VARIABLES.contains(&name)
        {
            return Err(TemplateError::UnknownVariable(name.to_owned()));
        }
    }
    if unclosed {
        return Err(TemplateError::Unclosed);
    }
    Ok(())
}

/// What the variables stand for in one conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    /// The customer's name, when known.
    pub contact_name: Option<String>,
    /// The customer's email, when known.
    pub contact_email: Option<String>,
    /// The agent's display name.
    pub agent_name: Option<String>,
    /// The agent's email.
    pub agent_email: Option<String>,
    /// The conversation.
    pub conversation_id: Option<i64>,
}

impl Values {
    fn get(&self, name: &str) -> Option<String> {
        let v = match name {
            "contact.name" => self.contact_name.clone(),
            "contact.email" => self.contact_email.clone(),
            "agent.name" => self.agent_name.clone(),
            "agent.email" => self.agent_email.clone(),
            "conversation.id" => self.conversation_id.map(|id| id.to_string()),
            _ => None,
        };
        v.filter(|v| !v.trim().is_empty())
    }
}

/// `template` with every placeholder replaced by its value, else its fallback, else nothing.
/// A template stored before a variable was retired still renders: the unknown placeholder gets
/// its fallback, an unclosed `{{` stays as text.
pub fn render(template: &str, values: &Values) -> String {
    let mut out = String::with_capacity(template.len());
    for p in parts(template).0 {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::Var { name, fallback } => match values.get(name) {
                Some(v) => out.push_str(&v),
                None => out.push_str(fallback),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values {
            contact_name: Some("Alice".into()),
            contact_email: None,
            agent_name: Some("Eve".into()),
            agent_email: Some("eve@example.com".into()),
            conversation_id: Some(42),
        }
    }

    #[test]
    fn placeholders_are_filled_with_values_then_fallbacks_then_nothing() {
        let cases = [
            ("Hi {{contact.name}}!", "Hi Alice!"),
            ("Hi {{ contact.name | there }}!", "Hi Alice!"),
            ("Mail: {{contact.email | none given}}.", "Mail: none given."),
            ("Mail: {{contact.email}}.", "Mail: ."),
            (
                "{{agent.name}} <{{agent.email}}> #{{conversation.id}}",
                "Eve <eve@example.com> #42",
            ),
            ("no placeholders", "no placeholders"),
            ("您好，{{contact.email|朋友}}", "您好，朋友"),
            ("a | b }} c", "a | b }} c"),
            ("{{contact.email | a | b}}", "a | b"),
            ("", ""),
        ];
        for (template, want) in cases {
            assert_eq!(check(template), Ok(()), "{template}");
            assert_eq!(render(template, &values()), want, "{template}");
        }
    }

    #[test]
    fn an_empty_value_takes_the_fallback() {
        let v = Values {
            contact_name: Some("  ".into()),
            ..Values::default()
        };
        assert_eq!(render("Hi {{contact.name|there}}", &v), "Hi there");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_refused() {
        let cases = [
            (
                "Hi {{contact.nmae}}",
                TemplateError::UnknownVariable("contact.nmae".into()),
            ),
            ("Hi {{ }}", TemplateError::UnknownVariable(String::new())),
            (
                "{{Contact.Name|x}}",
                TemplateError::UnknownVariable("Contact.Name".into()),
            ),
            ("Hi {{contact.name", TemplateError::Unclosed),
            ("{{contact.name}} and {{", TemplateError::Unclosed),
        ];
        for (template, want) in cases {
            assert_eq!(check(template), Err(want), "{template}");
        }
        let e = check("Hi {{contact.nmae | x}}").expect_err("refused");
        assert!(e.to_string().contains("{{contact.nmae}}"), "{e}");
    }

    #[test]
    fn a_bad_stored_template_still_renders() {
        assert_eq!(render("Hi {{old.var | you}}", &values()), "Hi you");
        assert_eq!(render("Hi {{contact.name", &values()), "Hi {{contact.name");
    }
}
