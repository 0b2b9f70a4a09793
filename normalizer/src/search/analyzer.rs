//! How text becomes search terms: jieba segments Chinese into words (in search mode, so a long
//! word such as 申请退款 also yields 申请 and 退款), English splits at spaces and punctuation,
//! and everything is lowercased. Tokens without a letter or digit (spaces, punctuation) are
//! dropped. Index and queries use the same analyzer, so a query matches what was indexed.
//!
//! Why not the `tantivy-jieba` crate: it passes jieba's whitespace and punctuation tokens on,
//! which would need a second token filter to remove; segmenting here takes as little code.

use std::sync::OnceLock;

use jieba_rs::{Jieba, TokenizeMode};
use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index.
pub const ANALYZER: &str = "kefu_jieba";

/// Longest token kept, in bytes: longer ones are base64 blobs or URLs, not words.
const MAX_TOKEN_BYTES: usize = 60;

/// The dictionary, loaded once per process (about 0.2 s).
fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// The analyzer for every full-text field.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(JiebaWords)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .build()
}

/// The distinct terms of `text`, in order of first appearance.
pub fn terms(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out: Vec<String> = Vec::new();
    while let Some(token) = stream.next() {
        if !out.contains(&token.text) {
            out.push(token.text.clone());
        }
    }
    out
}

/// Jieba's words that carry a letter or a digit.
#[derive(Clone, Copy, Debug, Default)]
struct JiebaWords;

impl Tokenizer for JiebaWords {
    type TokenStream<'a> = Words;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Words {
        let base = text.as_ptr() as usize;
        let tokens = jieba()
            .tokenize(text, TokenizeMode::Search, true)
            .into_iter()
            .filter(|t| t.word.chars().any(char::is_alphanumeric))
            .enumerate()
            .map(|(position, t)| {
                // `word` borrows from `text`, so its byte offset is the pointer difference.
                let from = t.word.as_ptr() as usize - base;
                Token {
                    offset_from: from,
                    offset_to: from + t.word.len(),
                    position,
                    text: t.word.to_owned(),
                    position_length: 1,
                }
            })
            .collect();
        Words {
            tokens,
            next: 0,
            current: Token::default(),
        }
    }
}

/// The words of one text.
struct Words {
    tokens: Vec<Token>,
    next: usize,
    current: Token,
}

impl TokenStream for Words {
    fn advance(&mut self) -> bool {
        match self.tokens.get_mut(self.next) {
            Some(t) => {
                self.current = std::mem::take(t);
                self.next += 1;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

#[cfg(test)]
mod tests {
    use super::terms;

    #[test]
    fn chinese_words_and_their_parts() {
        let t = terms("我想申请退款，谢谢");
        assert!(t.contains(&"退款".to_owned()), "{t:?}");
        assert!(t.contains(&"申请".to_owned()), "{t:?}");
        assert!(!t.iter().any(|w| w == "，"), "{t:?}");
    }

    #[test]
    fn english_is_lowercased_without_punctuation() {
        assert_eq!(
            terms("Where is my REFUND? Order #1234."),
            ["where", "is", "my", "refund", "order", "1234"]
        );
    }

    #[test]
    fn mixed_text_and_emails() {
        let t = terms("alice@example.com 想退款");
        for w in ["alice", "example", "com", "退款"] {
            assert!(t.contains(&w.to_owned()), "{w} in {t:?}");
        }
        assert!(terms("  ，。!! ").is_empty());
    }
}
