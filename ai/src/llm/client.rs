//! A client of an OpenAI-compatible API: `POST {base_url}/chat/completions` and
//! `POST {base_url}/embeddings`, with a bearer key when one is given, one time limit over the
//! whole exchange, and errors that say what went wrong (the HTTP status and the provider's own
//! message, a timeout, a connection failure, an answer that does not parse).
//!
//! Every text is [`redact`]ed here, just before it is sent, so no caller can forget to.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::LlmError;
use super::redact::redact;

/// The longest provider error message kept in an [`LlmError::Status`].
const MAX_PROVIDER_MESSAGE: usize = 300;

/// Where a model is and how long to wait for it.
#[derive(Clone)]
pub struct Endpoint {
    /// The API's base address, e.g. `https://api.openai.com/v1` (no trailing slash needed).
    pub base_url: String,
    /// The bearer key, if the API wants one.
    pub api_key: Option<SecretString>,
    /// The model's name, e.g. `gpt-4o-mini`.
    pub model: String,
    /// The longest one request may take, answer included.
    pub timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[hidden]"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Who says a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The instructions.
    System,
    /// The request.
    User,
}

/// One message of a chat request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Who says it.
    pub role: Role,
    /// What it says (redacted before it is sent).
    pub content: String,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The first choice's text.
    pub content: String,
    /// Tokens the request cost, when the API says (`usage.total_tokens`).
    pub total_tokens: Option<u64>,
}

/// Embeddings, one per text asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedded {
    /// The vectors, in the order of the texts.
    pub vectors: Vec<Vec<f32>>,
    /// Tokens the request cost, when the API says (`usage.total_tokens`).
    pub total_tokens: Option<u64>,
}

/// A client of one OpenAI-compatible endpoint; cheap to clone.
#[derive(Debug, Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    endpoint: Endpoint,
}

impl LlmClient {
    /// A client of `endpoint` over `http` (which carries the installation's trusted roots).
    pub fn new(http: reqwest::Client, endpoint: Endpoint) -> Self {
        Self { http, endpoint }
    }

    /// The endpoint it calls.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Asks for a chat completion of `messages`, each redacted first; with `json`, asks for
    /// a JSON object (`response_format`).
    pub async fn chat(&self, messages: &[ChatMessage], json: bool) -> Result<Completion, LlmError> {
        let messages: Vec<Value> = messages
            .iter()
            .map(|m| json!({"role": m.role, "content": redact(&m.content)}))
            .collect();
        let mut body = json!({
            "model": self.endpoint.model,
            "messages": messages,
            "temperature": 0.2,
        });
        if json {
            body["response_format"] = json!({"type": "json_object"});
        }
        let answer: ChatAnswer = self.post("chat/completions", &body).await?;
        let content = answer
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| LlmError::BadAnswer("the answer has no message text".into()))?;
        Ok(Completion {
            content,
            total_tokens: answer.usage.and_then(|u| u.total_tokens),
        })
    }

    /// The embedding of each of `texts` (redacted first), in order, and the tokens the
    /// request cost when the API says.
    pub async fn embed(&self, texts: &[String]) -> Result<Embedded, LlmError> {
        let input: Vec<String> = texts.iter().map(|t| redact(t)).collect();
        let body = json!({"model": self.endpoint.model, "input": input});
        let answer: EmbeddingAnswer = self.post("embeddings", &body).await?;
        let mut data = answer.data;
        data.sort_by_key(|d| d.index);
        if data.len() != texts.len() {
            return Err(LlmError::BadAnswer(format!(
                "asked for {} embeddings, got {}",
                texts.len(),
                data.len()
            )));
        }
        Ok(Embedded {
            vectors: data.into_iter().map(|d| d.embedding).collect(),
            total_tokens: answer.usage.and_then(|u| u.total_tokens),
        })
    }

    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<T, LlmError> {
        let url = format!("{}/{path}", self.endpoint.base_url.trim_end_matches('/'));
        let mut req = self.http.post(&url).json(body);
        if let Some(key) = &self.endpoint.api_key {
            req = req.bearer_auth(key.expose_secret());
        }
        let exchange = async {
            let resp = req.send().await.map_err(transport)?;
            let status = resp.status();
            let bytes = resp.bytes().await.map_err(transport)?;
            if !status.is_success() {
                return Err(LlmError::Status {
                    status: status.as_u16(),
                    message: provider_message(&bytes),
                });
            }
            serde_json::from_slice::<T>(&bytes)
                .map_err(|e| LlmError::BadAnswer(format!("the answer is not the API's JSON: {e}")))
        };
        match tokio::time::timeout(self.endpoint.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(LlmError::Timeout(self.endpoint.timeout)),
        }
    }
}

fn transport(e: reqwest::Error) -> LlmError {
    // Without the URL: it may carry credentials in a proxy's query string.
    LlmError::Transport(e.without_url().to_string())
}

/// The provider's error message: `error.message` of an OpenAI-style error body, or the start
/// of the body as text.
fn provider_message(body: &[u8]) -> String {
    let from_json = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        v["error"]["message"]
            .as_str()
            .or_else(|| v["error"].as_str())
            .or_else(|| v["message"].as_str())
            .map(str::to_owned)
    });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    let mut cut: String = text.chars().take(MAX_PROVIDER_MESSAGE).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    if cut.is_empty() {
        cut.push_str("(no message)");
    }
    cut
}

#[derive(Deserialize)]
struct ChatAnswer {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: AnswerMessage,
}

#[derive(Deserialize)]
struct AnswerMessage {
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    total_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct EmbeddingAnswer {
    data: Vec<EmbeddingItem>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    #[serde(default)]
    index: usize,
    embedding: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::provider_message;

    #[test]
    fn provider_messages_are_read_from_the_error_body() {
        let cases: [(&[u8], &str); 4] = [
            (
                br#"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}"#,
                "Incorrect API key provided",
            ),
            (br#"{"error": "model not found"}"#, "model not found"),
            (b"upstream connect error", "upstream connect error"),
            (b"", "(no message)"),
        ];
        for (body, want) in cases {
            assert_eq!(provider_message(body), want);
        }
        let long = "x".repeat(1000);
        assert_eq!(provider_message(long.as_bytes()).chars().count(), 301);
    }
}
