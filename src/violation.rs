//! A violation is a value: which invariant broke, where, what was expected and what was
//! seen. Checks produce them; only reporters turn them into text.

use std::fmt;

use serde::Deserialize;

/// Every rule the harness can report, by the stable name users see in output and filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Invariant {
    /// The request got no HTTP response at all (connection refused, timeout, reset).
    Transport,
    /// The status code is one the case accepts.
    Status,
    /// The body fits the size cap.
    BodySize,
    /// The response says it is JSON (`application/json` or `+json`).
    ContentType,
    /// The body parses as JSON.
    Json,
    /// The body is valid against the case's schema.
    Schema,
    /// A page holds at most `limit` items (the default limit when none is sent).
    PageSize,
    /// `first_id` names the first item of a non-empty page.
    FirstId,
    /// `last_id` names the last item of a non-empty page.
    LastId,
    /// An empty page has null `first_id`/`last_id` and `has_more: false`.
    EmptyPage,
    /// Items inside a page are ordered by the order key in the contract's direction.
    Order,
}

impl Invariant {
    /// The stable name used in output, reports and case files.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::Transport => "transport",
            Invariant::Status => "status",
            Invariant::BodySize => "body_size",
            Invariant::ContentType => "content_type",
            Invariant::Json => "json",
            Invariant::Schema => "schema",
            Invariant::PageSize => "page_size",
            Invariant::FirstId => "first_id",
            Invariant::LastId => "last_id",
            Invariant::EmptyPage => "empty_page",
            Invariant::Order => "order",
        }
    }

    /// One line saying what the invariant means, shown next to its name.
    pub fn meaning(self) -> &'static str {
        match self {
            Invariant::Transport => "the server answers the request",
            Invariant::Status => "the status code is one the case accepts",
            Invariant::BodySize => "the body fits the size cap",
            Invariant::ContentType => "the response is declared as JSON",
            Invariant::Json => "the body is well-formed JSON",
            Invariant::Schema => "the body matches the schema",
            Invariant::PageSize => "a page holds at most `limit` items",
            Invariant::FirstId => "`first_id` is the id of the first item",
            Invariant::LastId => "`last_id` is the id of the last item",
            Invariant::EmptyPage => {
                "an empty page has null `first_id`/`last_id` and `has_more: false`"
            }
            Invariant::Order => "items are ordered by the order key within the page",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The page invariants a case file may select with `invariants = [...]`.
///
/// Status, content type, JSON and schema are always checked, so they are not listed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageInvariant {
    PageSize,
    FirstId,
    LastId,
    EmptyPage,
    Order,
}

impl PageInvariant {
    /// All page invariants: what a list case checks when it names none.
    pub const ALL: [PageInvariant; 5] = [
        PageInvariant::PageSize,
        PageInvariant::FirstId,
        PageInvariant::LastId,
        PageInvariant::EmptyPage,
        PageInvariant::Order,
    ];
}

impl From<PageInvariant> for Invariant {
    fn from(p: PageInvariant) -> Self {
        match p {
            PageInvariant::PageSize => Invariant::PageSize,
            PageInvariant::FirstId => Invariant::FirstId,
            PageInvariant::LastId => Invariant::LastId,
            PageInvariant::EmptyPage => Invariant::EmptyPage,
            PageInvariant::Order => Invariant::Order,
        }
    }
}

/// One broken rule, with everything a reader needs to find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub invariant: Invariant,
    /// The request that produced the response, as `GET <url>`; filled in by the runner.
    pub request: Option<String>,
    /// JSON pointer into the response body (`""` is the whole body).
    pub pointer: String,
    /// For schema violations: the keyword's location in the schema.
    pub schema_path: Option<String>,
    pub expected: String,
    pub actual: String,
}

impl Violation {
    pub fn new(
        invariant: Invariant,
        pointer: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Violation {
            invariant,
            request: None,
            pointer: pointer.into(),
            schema_path: None,
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}
