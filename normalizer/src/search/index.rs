//! The tantivy index: its schema, where it lives, the documents it holds and the queries it
//! answers. Two kinds of document share one schema:
//!
//! - a **message** (`key` = `m:<id>`): its text in `text`;
//! - a **conversation** (`key` = `c:<id>`): the email subject in `subject`; the contact's name,
//!   email, phone and channel identities in `contact`, and the same identifiers whole and
//!   lowercased in `exact`, so `alice@example.com` matches its owner before anyone else at
//!   `example.com`.
//!
//! Both carry `conversation_id` as a fast field: a query ranks documents, then groups them by
//! conversation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};

use super::SearchError;
use super::analyzer::{ANALYZER, analyzer, terms};

/// Bumped whenever the schema or the analyzer changes: an index of another version is
/// discarded and rebuilt from the database.
pub const SCHEMA_VERSION: u32 = 1;

/// Most documents a query looks at. Conversations are grouped from the best this many
/// matching documents, so a query lists at most this many conversations.
pub const MAX_DOCS: usize = 2000;

/// Most distinct terms taken from one query.
const MAX_TERMS: usize = 16;

/// Where an index lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A folder; the index goes in a subfolder per schema version.
    Dir(PathBuf),
    /// Memory only, gone when the process ends (tests).
    Memory,
}

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub key: Field,
    pub conversation_id: Field,
    pub text: Field,
    pub subject: Field,
    pub contact: Field,
    pub exact: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        conversation_id: b.add_i64_field("conversation_id", FAST | INDEXED | STORED),
        text: b.add_text_field("text", words.clone()),
        subject: b.add_text_field("subject", words.clone()),
        contact: b.add_text_field("contact", words),
        exact: b.add_text_field("exact", STRING),
    };
    (b.build(), fields)
}

/// What the index's last commit says about it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Mark {
    /// [`SCHEMA_VERSION`] of the index.
    pub version: u32,
    /// A rebuild from the database finished; until then the index is not to be trusted.
    pub complete: bool,
    /// The highest outbox event id applied.
    pub through: i64,
}

/// One document to write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Doc {
    /// A message's text.
    Message {
        id: i64,
        conversation_id: i64,
        text: String,
    },
    /// A conversation's subject and contact.
    Conversation {
        id: i64,
        subject: Option<String>,
        contact: Vec<String>,
        exact: Vec<String>,
    },
}

impl Doc {
    pub fn key(&self) -> String {
        match self {
            Self::Message { id, .. } => format!("m:{id}"),
            Self::Conversation { id, .. } => format!("c:{id}"),
        }
    }

    pub fn to_tantivy(&self, f: &Fields) -> TantivyDocument {
        let mut d = TantivyDocument::new();
        d.add_text(f.key, self.key());
        match self {
            Self::Message {
                conversation_id,
                text,
                ..
            } => {
                d.add_i64(f.conversation_id, *conversation_id);
                d.add_text(f.text, text);
            }
            Self::Conversation {
                id,
                subject,
                contact,
                exact,
            } => {
                d.add_i64(f.conversation_id, *id);
                if let Some(s) = subject {
                    d.add_text(f.subject, s);
                }
                d.add_text(f.contact, contact.join(" "));
                for e in exact {
                    d.add_text(f.exact, e.to_lowercase());
                }
            }
        }
        d
    }
}

/// An opened index: the tantivy index, its fields and the shared reader.
#[derive(Clone)]
pub(crate) struct Opened {
    pub index: Index,
    pub fields: Fields,
    pub reader: IndexReader,
}

impl Opened {
    /// Opens the index at `location`, creating it when missing. A folder left by another
    /// schema version is removed.
    pub fn open(location: &Location) -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let index = match location {
            Location::Memory => Index::create_in_ram(schema),
            Location::Dir(dir) => {
                let current = dir.join(format!("v{SCHEMA_VERSION}"));
                remove_other_versions(dir, &current);
                std::fs::create_dir_all(&current).map_err(|e| {
                    SearchError::Io(format!("cannot create {}: {e}", current.display()))
                })?;
                let opened = MmapDirectory::open(&current)
                    .map_err(|e| SearchError::Io(format!("{}: {e}", current.display())))
                    .and_then(|d| Ok(Index::open_or_create(d, schema.clone())?));
                match opened {
                    Ok(i) => i,
                    Err(e) => {
                        // A damaged or foreign index: start over, the database has everything.
                        tracing::warn!(dir = %current.display(), error = %e, "The search index cannot be opened; it is rebuilt.");
                        std::fs::remove_dir_all(&current).ok();
                        std::fs::create_dir_all(&current).map_err(|e| {
                            SearchError::Io(format!("cannot create {}: {e}", current.display()))
                        })?;
                        Index::create_in_dir(&current, schema)?
                    }
                }
            }
        };
        index.tokenizers().register(ANALYZER, analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            fields,
            reader,
        })
    }

    /// The mark of the last commit; the default (incomplete) for a new index.
    pub fn mark(&self) -> Mark {
        self.index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| serde_json::from_str::<Mark>(&p).ok())
            .filter(|m| m.version == SCHEMA_VERSION)
            .unwrap_or_default()
    }

    /// The query for `q`: every term in any field, subjects and contacts weighing more than
    /// message text, and the whole of `q` as an identifier weighing most. `None` when `q` has
    /// nothing to search for.
    pub fn query(&self, q: &str) -> Option<Box<dyn Query>> {
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in terms(q).into_iter().take(MAX_TERMS) {
            for (field, boost) in [(f.text, 1.0), (f.subject, 1.5), (f.contact, 1.5)] {
                let tq = TermQuery::new(
                    Term::from_field_text(field, &term),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(tq), boost)),
                ));
            }
        }
        if clauses.is_empty() {
            return None;
        }
        let whole = q.trim().to_lowercase();
        let exact = TermQuery::new(
            Term::from_field_text(f.exact, &whole),
            IndexRecordOption::Basic,
        );
        clauses.push((
            Occur::Should,
            Box::new(BoostQuery::new(Box::new(exact), 4.0)),
        ));
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    /// Conversations matching `query`, best first.
    pub fn rank(&self, searcher: &Searcher, query: &dyn Query) -> Result<Vec<Ranked>, SearchError> {
        let top = searcher.search(query, &TopDocs::with_limit(MAX_DOCS).order_by_score())?;
        let mut columns = HashMap::new();
        let mut by_conversation: HashMap<i64, Ranked> = HashMap::new();
        for (score, addr) in top {
            let column = match columns.entry(addr.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(
                    searcher
                        .segment_reader(addr.segment_ord)
                        .fast_fields()
                        .i64("conversation_id")?,
                ),
            };
            let Some(id) = column.first(addr.doc_id) else {
                continue;
            };
            // Documents come best first, so the first of a conversation is its best match;
            // each further matching message adds a quarter of its score.
            by_conversation
                .entry(id)
                .and_modify(|r| r.score += score * 0.25)
                .or_insert(Ranked {
                    conversation_id: id,
                    score,
                    best: addr,
                });
        }
        let mut ranked: Vec<Ranked> = by_conversation.into_values().collect();
        ranked.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.conversation_id.cmp(&a.conversation_id))
        });
        Ok(ranked)
    }

    /// The highlighted snippet of `best`, the document that matched best.
    pub fn snippet(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        best: DocAddress,
    ) -> Result<Option<Match>, SearchError> {
        let f = &self.fields;
        let doc: TantivyDocument = searcher.doc(best)?;
        let message_id = doc_text(&doc, f.key)
            .and_then(|k| k.strip_prefix("m:").and_then(|id| id.parse::<i64>().ok()));
        let is_message = message_id.is_some();
        let candidates: &[(Field, MatchField)] = if is_message {
            &[(f.text, MatchField::Message)]
        } else {
            &[
                (f.subject, MatchField::Subject),
                (f.contact, MatchField::Contact),
            ]
        };
        for (field, kind) in candidates {
            let Some(text) = doc_text(&doc, *field) else {
                continue;
            };
            let mut generator = SnippetGenerator::create(searcher, query, *field)?;
            generator.set_max_num_chars(SNIPPET_CHARS);
            let mut snippet = generator.snippet(&text);
            if snippet.is_empty() {
                continue;
            }
            snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
            return Ok(Some(Match {
                field: *kind,
                snippet: snippet.to_html(),
                message_id,
            }));
        }
        // Matched only as a whole identifier: show the contact line unmarked.
        Ok(doc_text(&doc, f.contact).map(|text| Match {
            field: MatchField::Contact,
            snippet: escape(&text),
            message_id: None,
        }))
    }
}

/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 160;

fn doc_text(doc: &TantivyDocument, field: Field) -> Option<String> {
    use tantivy::schema::Value;
    doc.get_first(field)
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|s| !s.is_empty())
}

/// `text` safe to place in HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Removes index folders of other schema versions next to `current`.
fn remove_other_versions(dir: &Path, current: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_version = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('v') && n[1..].parse::<u32>().is_ok());
        if is_version && path != current && path.is_dir() {
            tracing::info!(dir = %path.display(), "Removing a search index of another version.");
            std::fs::remove_dir_all(&path).ok();
        }
    }
}

/// A conversation found by a query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ranked {
    pub conversation_id: i64,
    pub score: f32,
    pub best: DocAddress,
}

/// Where a conversation matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchField {
    /// A message's text (private notes included).
    Message,
    /// The email subject.
    Subject,
    /// The contact's name, email, phone or a channel identity.
    Contact,
}

/// The best match of a conversation, for showing why it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Match {
    /// Which field matched.
    pub field: MatchField,
    /// The matching passage as HTML: matched words in `<mark>…</mark>`, everything else
    /// escaped.
    pub snippet: String,
    /// The message, when a message matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i64>,
}
