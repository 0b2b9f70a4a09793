//! Which configuration keys exist, and what to make of keys that do not.
//!
//! `kefu.toml` is ours alone, so an unknown key there is an error (a typo must not silently
//! fall back to a default). The environment is shared with the platform: a Kubernetes Service
//! named `kefu` injects `KEFU_PORT=tcp://…`, `KEFU_SERVICE_HOST` and `KEFU_PORT_8080_TCP_*`
//! into every pod of its namespace, and scripts set things like `KEFU_BIN`. Those are skipped;
//! any other unknown `KEFU_*` variable is reported as a warning, with the setting it most
//! likely meant.

use figment::Figment;
use figment::error::{Actual, Kind};
use figment::providers::Serialized;
use figment::value::{Dict, Value as FigValue};
use serde_json::Value;

use super::Config;

/// Settings that are never serialized (secrets) but can be given, as dotted paths.
const SECRET_KEYS: [&str; 4] = [
    "secret_key",
    "bootstrap_admin_password",
    "ai.llm.api_key",
    "ai.embeddings.api_key",
];

/// The tree of known keys: a table maps names to subtrees, a leaf is `None`.
#[derive(Debug)]
pub(super) struct Known(serde_json::Map<String, Value>);

impl Known {
    /// Every key `Config` has, from its defaults (which list every field) plus the secrets.
    pub(super) fn new() -> Self {
        let mut map = match serde_json::to_value(Config::default()) {
            Ok(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        for key in SECRET_KEYS {
            let mut node = &mut map;
            let mut parts = key.split('.').peekable();
            while let Some(part) = parts.next() {
                if parts.peek().is_none() {
                    node.insert(part.to_owned(), Value::Null);
                    break;
                }
                let next = node
                    .entry(part.to_owned())
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                match next {
                    Value::Object(sub) => node = sub,
                    _ => break,
                }
            }
        }
        Self(map)
    }

    /// Whether `path` names a known key or table.
    pub(super) fn contains(&self, path: &[&str]) -> bool {
        let mut node = &self.0;
        for (i, part) in path.iter().enumerate() {
            match node.get(*part) {
                Some(Value::Object(sub)) => node = sub,
                Some(_) => return i + 1 == path.len(),
                None => return false,
            }
        }
        true
    }

    /// The unknown keys of a TOML document, as dotted paths, each with its likely meaning.
    pub(super) fn unknown_in(&self, dict: &Dict) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.0, dict, "", &mut out);
        out
    }

    /// Every known dotted path (tables and leaves).
    fn paths(&self) -> Vec<String> {
        fn collect(map: &serde_json::Map<String, Value>, prefix: &str, out: &mut Vec<String>) {
            for (k, v) in map {
                let path = join(prefix, k);
                if let Value::Object(sub) = v {
                    collect(sub, &path, out);
                }
                out.push(path);
            }
        }
        let mut out = Vec::new();
        collect(&self.0, "", &mut out);
        out
    }

    /// The known environment variable closest to `name` (e.g. `KEFU_WEBHOOK__TIMEOUT_SECS`).
    pub(super) fn suggest_env(&self, name: &str) -> Option<String> {
        closest(name, self.paths().iter().map(|p| env_name(p)))
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk(known: &serde_json::Map<String, Value>, dict: &Dict, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in dict {
        let path = join(prefix, key);
        match (known.get(key), value) {
            (Some(Value::Object(sub)), FigValue::Dict(_, inner)) => walk(sub, inner, &path, out),
            (Some(_), _) => {}
            (None, _) => {
                let siblings = known.keys().map(|k| join(prefix, k));
                out.push(match closest(&path, siblings) {
                    Some(s) => format!("unknown key \"{path}\" (did you mean \"{s}\"?)"),
                    None => format!("unknown key \"{path}\""),
                });
            }
        }
    }
}

/// The environment variable that sets a dotted path: `webhooks.timeout_secs` →
/// `KEFU_WEBHOOKS__TIMEOUT_SECS`.
pub(super) fn env_name(path: &str) -> String {
    format!("KEFU_{}", path.replace('.', "__").to_ascii_uppercase())
}

/// The candidate with the smallest edit distance to `word`, if it is within a typo's reach:
/// a third of the word's length, at most 3 edits.
fn closest(word: &str, candidates: impl IntoIterator<Item = String>) -> Option<String> {
    let reach = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(word, &c), c))
        .filter(|(d, _)| *d <= reach)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Drops the keys of `dict` that name no setting (they are reported separately), so the
/// remaining values can still be checked.
pub(super) fn retain_known(known: &Known, dict: &mut Dict) {
    fn retain(known: &serde_json::Map<String, Value>, dict: &mut Dict) {
        dict.retain(|k, _| known.contains_key(k));
        for (k, v) in dict.iter_mut() {
            if let (Some(Value::Object(sub)), FigValue::Dict(_, inner)) = (known.get(k), v) {
                retain(sub, inner);
            }
        }
    }
    retain(&known.0, dict);
}

/// Whether `dict` sets the dotted `path`.
pub(super) fn dict_has(dict: &Dict, path: &str) -> bool {
    let mut node = dict;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        match (node.get(part), parts.peek()) {
            (Some(_), None) => return true,
            (Some(FigValue::Dict(_, inner)), Some(_)) => node = inner,
            _ => return false,
        }
    }
    false
}

/// Extracts the configuration, collecting every value that does not fit instead of stopping
/// at the first: each bad value is reported (named by `source`) and put back to its default,
/// and extraction is tried again.
pub(super) fn extract_reporting(
    mut fig: Figment,
    source: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) -> Option<Config> {
    let defaults = serde_json::to_value(Config::default()).unwrap_or(Value::Null);
    let mut seen = Vec::new();
    for _ in 0..64 {
        let err = match fig.extract::<Config>() {
            Ok(config) => return Some(config),
            Err(e) => e,
        };
        let mut reset = Vec::new();
        for e in err {
            // The profile name is not part of the key.
            let path: Vec<&str> = e
                .path
                .iter()
                .map(String::as_str)
                .skip_while(|p| *p == "default")
                .collect();
            let dotted = path.join(".");
            if dotted.is_empty() || seen.contains(&dotted) {
                problems.push(describe(&e.kind));
                return None;
            }
            problems.push(format!("{}: {}", source(&dotted), describe(&e.kind)));
            let default = path
                .iter()
                .try_fold(&defaults, |v, p| v.get(*p))
                .cloned()
                .unwrap_or(Value::Null);
            reset.push((dotted.clone(), default));
            seen.push(dotted);
        }
        for (path, default) in reset {
            fig = fig.merge(Serialized::default(&path, default));
        }
    }
    None
}

/// figment's error kinds in plain words, quoting values with double quotes.
fn describe(kind: &Kind) -> String {
    let actual = |a: &Actual| match a {
        Actual::Str(s) => format!("the text \"{s}\""),
        Actual::Unsigned(n) => format!("the number {n}"),
        Actual::Signed(n) => format!("the number {n}"),
        Actual::Float(n) => format!("the number {n}"),
        Actual::Bool(b) => format!("{b}"),
        other => other.to_string().replace('`', "\""),
    };
    match kind {
        Kind::InvalidType(a, expected) => format!("expected {expected}, found {}", actual(a)),
        Kind::InvalidValue(a, expected) => format!("expected {expected}, found {}", actual(a)),
        Kind::UnknownVariant(v, expected) => format!(
            "\"{v}\" is not one of {}",
            expected
                .iter()
                .map(|e| format!("\"{e}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Kind::Message(m) => m.clone(),
        other => other.to_string().replace('`', "\""),
    }
}

/// What an environment variable starting with `KEFU_` is to us.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum EnvKey {
    /// A setting, as a dotted path.
    Setting(String),
    /// Clearly someone else's (Kubernetes service links, test-suite and script variables).
    Foreign,
    /// Looks like ours but names no setting.
    Unknown,
}

/// Classifies `name` (`KEFU_…`, any case) with its value.
pub(super) fn classify_env(known: &Known, name: &str, value: &str) -> EnvKey {
    let Some(rest) = name
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("KEFU_"))
        .map(|_| &name[5..])
    else {
        return EnvKey::Foreign;
    };
    let path = rest.to_ascii_lowercase().replace("__", ".");
    let parts: Vec<&str> = path.split('.').collect();
    if !rest.is_empty() && parts.iter().all(|p| !p.is_empty()) && known.contains(&parts) {
        return EnvKey::Setting(path);
    }
    let upper = rest.to_ascii_uppercase();
    if upper == "BIN" || upper.starts_with("TEST_") || kubernetes_service_link(&upper, value) {
        EnvKey::Foreign
    } else {
        EnvKey::Unknown
    }
}

/// The variables Kubernetes injects for a Service (docker links use the same names):
/// `<SVC>_SERVICE_HOST`, `<SVC>_SERVICE_PORT[_<NAME>]`, `<SVC>_PORT=tcp://…` and
/// `<SVC>_PORT_<N>_<PROTO>[_PROTO|_PORT|_ADDR]`, where `<SVC>` is `KEFU` or starts with
/// `KEFU_` (a Service named `kefu-api`). `rest` is the name after `KEFU_`, upper case.
fn kubernetes_service_link(rest: &str, value: &str) -> bool {
    let words: Vec<&str> = rest.split('_').collect();
    words.iter().enumerate().any(|(i, w)| {
        let tail = &words[i + 1..];
        match *w {
            "SERVICE" => matches!(tail.first(), Some(&"HOST") | Some(&"PORT")),
            "PORT" if tail.is_empty() => {
                let v = value.to_ascii_lowercase();
                ["tcp://", "udp://", "sctp://"]
                    .iter()
                    .any(|s| v.starts_with(s))
            }
            "PORT" => {
                tail.len() >= 2
                    && tail[0].chars().all(|c| c.is_ascii_digit())
                    && matches!(tail[1], "TCP" | "UDP" | "SCTP")
            }
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_variables_are_sorted_into_ours_foreign_and_unknown() {
        let known = Known::new();
        let setting = |p: &str| EnvKey::Setting(p.to_owned());
        let cases = [
            ("KEFU_LISTEN", "0.0.0.0:8080", setting("listen")),
            (
                "KEFU_WEBHOOKS__ALLOW_PRIVATE_TARGETS",
                "true",
                setting("webhooks.allow_private_targets"),
            ),
            ("KEFU_SECRET_KEY", "x", setting("secret_key")),
            ("KEFU_AI__LLM__API_KEY", "sk-x", setting("ai.llm.api_key")),
            (
                "KEFU_AI__LLM__BASE_URL",
                "http://x",
                setting("ai.llm.base_url"),
            ),
            ("KEFU_AI__LLM__APIKEY", "sk-x", EnvKey::Unknown),
            ("KEFU_PORT", "tcp://10.0.0.7:8080", EnvKey::Foreign),
            ("KEFU_SERVICE_HOST", "10.0.0.7", EnvKey::Foreign),
            ("KEFU_SERVICE_PORT", "8080", EnvKey::Foreign),
            ("KEFU_SERVICE_PORT_HTTP", "8080", EnvKey::Foreign),
            ("KEFU_PORT_8080_TCP", "tcp://10.0.0.7:8080", EnvKey::Foreign),
            ("KEFU_PORT_8080_TCP_ADDR", "10.0.0.7", EnvKey::Foreign),
            ("KEFU_API_PORT", "tcp://10.0.0.8:80", EnvKey::Foreign),
            ("KEFU_API_SERVICE_HOST", "10.0.0.8", EnvKey::Foreign),
            ("KEFU_BIN", "/usr/bin/kefu", EnvKey::Foreign),
            ("KEFU_TEST_DATABASE_URL", "postgres://", EnvKey::Foreign),
            ("KEFU_PORT", "8080", EnvKey::Unknown),
            ("KEFU_LISTN", "x", EnvKey::Unknown),
            ("KEFU_WEBHOOKS__NOPE", "x", EnvKey::Unknown),
            ("KEFU_LISTEN__X", "x", EnvKey::Unknown),
        ];
        for (name, value, want) in cases {
            assert_eq!(classify_env(&known, name, value), want, "{name}={value}");
        }
    }

    #[test]
    fn near_misses_get_a_suggestion() {
        let known = Known::new();
        assert_eq!(closest("lisen", known.paths()).as_deref(), Some("listen"));
        assert_eq!(
            known
                .suggest_env("KEFU_WEBHOOKS_ALLOW_PRIVATE_TARGETS")
                .as_deref(),
            Some("KEFU_WEBHOOKS__ALLOW_PRIVATE_TARGETS")
        );
        assert_eq!(known.suggest_env("KEFU_SOMETHING_ELSE_ENTIRELY"), None);
    }
}
