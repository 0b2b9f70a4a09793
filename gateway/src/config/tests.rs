//! Loading and validating the configuration.

use super::*;

#[test]
fn defaults_are_valid() {
    Config::default().validate().expect("defaults validate");
    assert_eq!(Config::default().public_url(), "http://127.0.0.1:8080");
}

#[test]
fn unknown_keys_and_bad_values_are_named() {
    let dir = std::env::temp_dir().join(format!("kefu-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cases = [
        ("listen = \"127.0.0.1:9\"\nlisen = 1\n", "lisen"),
        ("database_url = \"mysql://x\"\n", "database_url"),
        ("public_url = \"example.com\"\n", "public_url"),
        ("[webhooks]\nallow_private = true\n", "allow_private"),
        ("max_body_bytes = \"big\"\n", "max_body_bytes"),
    ];
    for (i, (toml, key)) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.toml"));
        std::fs::write(&path, toml).expect("write config");
        let err = Config::load(Some(&path)).expect_err(toml).to_string();
        assert!(
            err.contains(key),
            "{toml:?}: error {err:?} does not name {key}"
        );
    }
    let missing = Config::load(Some(&dir.join("nope.toml")))
        .expect_err("missing file")
        .to_string();
    assert!(missing.contains("does not exist"), "{missing}");
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn every_problem_is_reported_at_once_with_clean_quotes() {
    let dir = std::env::temp_dir().join(format!("kefu-config-all-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("kefu.toml");
    std::fs::write(
        &path,
        "lisen = \"127.0.0.1:9\"\nmax_body_bytes = \"big\"\n[webhooks]\nallow_privte_targets = true\n",
    )
    .expect("write config");
    let err = Config::load_from(
        Some(&path),
        env(&[("KEFU_MAX_TEXT_BYTES", "lots"), ("KEFU_LOG_FORMAT", "xml")]),
    )
    .expect_err("bad config")
    .to_string();
    for want in [
        "5 problems",
        "KEFU_LOG_FORMAT: \"xml\" is not one of \"text\", \"json\"",
        "unknown key \"lisen\" (did you mean \"listen\"?)",
        "unknown key \"webhooks.allow_privte_targets\" (did you mean \"webhooks.allow_private_targets\"?)",
        "\"max_body_bytes\": expected usize, found the text \"big\"",
        "KEFU_MAX_TEXT_BYTES: expected usize, found the text \"lots\"",
    ] {
        assert!(err.contains(want), "{err}\n  does not contain {want}");
    }
    assert!(!err.contains("default."), "{err}");
    assert!(!err.contains('`'), "{err}");
}

#[test]
fn platform_variables_are_skipped_and_typos_are_warnings() {
    let (config, warnings) = Config::load_from(
        Some(&write_empty_config()),
        env(&[
            ("KEFU_PORT", "tcp://10.96.0.7:8080"),
            ("KEFU_PORT_8080_TCP", "tcp://10.96.0.7:8080"),
            ("KEFU_PORT_8080_TCP_ADDR", "10.96.0.7"),
            ("KEFU_SERVICE_HOST", "10.96.0.7"),
            ("KEFU_SERVICE_PORT", "8080"),
            ("KEFU_BIN", "/usr/local/bin/kefu"),
            ("KEFU_TEST_DATABASE_URL", "postgres://x"),
            ("KEFU_LISTEN", "0.0.0.0:9090"),
            ("KEFU_WEBHOOKS__TIMEOUT_SECS", "7"),
            ("KEFU_LISTN", "0.0.0.0:1"),
            ("PATH", "/usr/bin"),
        ]),
    )
    .expect("starts");
    assert_eq!(config.listen, SocketAddr::from(([0, 0, 0, 0], 9090)));
    assert_eq!(config.webhooks.timeout_secs, 7);
    assert_eq!(
        warnings,
        ["KEFU_LISTN is not a Kefu setting and is ignored; did you mean KEFU_LISTEN?"]
    );
}

fn write_empty_config() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kefu-config-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("kefu.toml");
    std::fs::write(&path, "").expect("write config");
    path
}

#[test]
fn the_language_model_is_configured_from_the_environment_and_its_key_stays_hidden() {
    let (config, warnings) = Config::load_from(
        Some(&write_empty_config()),
        env(&[
            ("KEFU_AI__LLM__BASE_URL", "https://llm.example.com/v1"),
            ("KEFU_AI__LLM__MODEL", "small-model"),
            ("KEFU_AI__LLM__API_KEY", "sk-very-secret"),
            ("KEFU_AI__LLM__DAILY_REQUESTS_PER_INBOX", "50"),
            (
                "KEFU_AI__EMBEDDINGS__BASE_URL",
                "https://llm.example.com/v1",
            ),
            ("KEFU_AI__EMBEDDINGS__MODEL", "embedder"),
            ("KEFU_AI__EMBEDDINGS__API_KEY", "sk-embedding-secret"),
        ]),
    )
    .expect("valid config");
    assert!(warnings.is_empty(), "{warnings:?}");
    let llm = &config.ai.llm;
    assert!(llm.enabled());
    assert_eq!(llm.model.as_deref(), Some("small-model"));
    assert_eq!(llm.daily_requests_per_inbox, 50);
    assert_eq!(
        llm.api_key
            .as_ref()
            .map(secrecy::ExposeSecret::expose_secret),
        Some("sk-very-secret")
    );
    let shown = format!(
        "{} {config:?}",
        serde_json::to_string(&config).expect("serializes")
    );
    assert!(!shown.contains("sk-very-secret"), "{shown}");
    assert!(!shown.contains("sk-embedding-secret"), "{shown}");
    assert_eq!(config.ai.embeddings.model.as_deref(), Some("embedder"));
    assert!(!Config::default().ai.llm.enabled(), "off by default");
}

#[test]
fn a_half_configured_model_is_refused() {
    let cases = [
        (
            vec![("KEFU_AI__LLM__BASE_URL", "https://llm.example.com/v1")],
            "set together",
        ),
        (
            vec![
                ("KEFU_AI__LLM__BASE_URL", "llm.example.com"),
                ("KEFU_AI__LLM__MODEL", "m"),
            ],
            "ai.llm.base_url must start with",
        ),
        (
            vec![("KEFU_AI__LLM__TIMEOUT_SECS", "0")],
            "ai.llm.timeout_secs",
        ),
        (
            vec![("KEFU_AI__LLM__DAILY_REQUESTS_PER_INBOX", "0")],
            "ai.llm.daily_requests_per_inbox",
        ),
        (
            vec![("KEFU_AI__EMBEDDINGS__MODEL", "embedder")],
            "ai.embeddings.base_url and ai.embeddings.model must be set together",
        ),
    ];
    for (vars, want) in cases {
        let err = Config::load_from(Some(&write_empty_config()), env(&vars))
            .expect_err(want)
            .to_string();
        assert!(err.contains(want), "{err} does not contain {want}");
    }
}
