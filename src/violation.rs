//! A violation is a value: which invariant broke, where, what was expected and what was
//! seen. Checks produce them; only reporters turn them into text.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Every rule the harness can report, by the stable name users see in output and filter on.
///
/// This enum is the registry: the list of invariants ([`Invariant::ALL`]), their names
/// ([`Invariant::name`], `Display`, `FromStr`, serde) and their meanings (the `message` next to
/// each) are derived from it, so adding an invariant is adding its variant.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::VariantArray,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumMessage,
)]
#[strum(
    serialize_all = "snake_case",
    parse_err_ty = String,
    parse_err_fn = unknown_invariant
)]
// By name, so reports read (and read back) the names users see.
#[serde(into = "&'static str", try_from = "String")]
pub enum Invariant {
    /// The request got no HTTP response at all (connection refused, timeout, reset).
    #[strum(message = "the server answers the request")]
    Transport,
    /// The status code is one the case accepts.
    #[strum(message = "the status code is one the case accepts")]
    Status,
    /// The body fits the size cap.
    #[strum(message = "the body fits the size cap")]
    BodySize,
    /// The response says it is JSON (`application/json` or `+json`).
    #[strum(message = "the response is declared as JSON")]
    ContentType,
    /// The body parses as JSON.
    #[strum(message = "the body is well-formed JSON")]
    Json,
    /// The body is valid against the case's schema.
    #[strum(message = "the body matches the schema")]
    Schema,
    /// A page holds at most `limit` items (the default limit when none is sent).
    #[strum(message = "a page holds at most `limit` items")]
    PageSize,
    /// `first_id` names the first item of a non-empty page.
    #[strum(message = "`first_id` is the id of the first item")]
    FirstId,
    /// `last_id` names the last item of a non-empty page.
    #[strum(message = "`last_id` is the id of the last item")]
    LastId,
    /// An empty page has null `first_id`/`last_id` and `has_more: false`.
    #[strum(message = "an empty page has null `first_id`/`last_id` and `has_more: false`")]
    EmptyPage,
    /// Items inside a page are ordered by the order key in the contract's direction.
    #[strum(message = "items are ordered by the order key within the page")]
    Order,
    /// Every item of a filtered page matches the filter (`purpose=batch` → `/purpose` is
    /// `batch`).
    #[strum(message = "every item of a filtered page matches the filter")]
    Filter,
    /// Values keep their meaning, where the contract says what it is (a timestamp in Unix
    /// seconds, counts that add up).
    #[strum(message = "values keep the meaning the contract gives them")]
    Plausible,
    /// An error body says something true: no stringified null, no bare status as its code,
    /// no server-error type on a client error (the contract's `[plausible_errors]`).
    #[strum(message = "the error body says what went wrong, plausibly")]
    PlausibleError,
    /// No id appears twice in a walk.
    #[strum(message = "no id appears twice in a walk")]
    DuplicateId,
    /// The order holds across page boundaries: a page's first item follows the previous
    /// page's last.
    #[strum(message = "the order holds across page boundaries")]
    WalkOrder,
    /// Every cursor of a walk is new; a repeated one is a cycle.
    #[strum(message = "every cursor of a walk is new")]
    CursorCycle,
    /// A page with `has_more: true` is followed by a non-empty page.
    #[strum(message = "a page with `has_more: true` is followed by a non-empty page")]
    HasMoreTrue,
    /// After a page with `has_more: false`, the page after its last id is empty.
    #[strum(message = "after `has_more: false`, the page after the last id is empty")]
    HasMoreFalse,
    /// A walk ends (`has_more: false`) within its page budget.
    #[strum(message = "the walk ends within its page budget")]
    PageBudget,
    /// The first page at a smaller limit is a prefix of the first page at a larger one.
    #[strum(
        message = "the first page at a smaller limit is a prefix of the first page at a larger one"
    )]
    FirstPagePrefix,
    /// Walks at different limits yield the same ids in the same order.
    #[strum(message = "walks at different limits yield the same ids in order")]
    SameSequence,
    /// A backward page holds exactly the items just before its cursor in the forward listing.
    #[strum(message = "a backward page holds exactly the items just before its cursor")]
    BackwardPage,
    /// On a backward page, `has_more` says whether items remain further back; the page before
    /// the head is empty.
    #[strum(message = "on a backward page, `has_more` says whether items remain further back")]
    BackwardHasMore,
    /// `after=X`, then `before=<that page's first id>`, returns the page that ends with X.
    #[strum(message = "`after=X`, then `before=<first id>`, returns the page that ends with X")]
    RoundTrip,
    /// The listing in one order is the listing in the other order reversed (ties either way,
    /// but consistently).
    #[strum(message = "one order's listing is the other's reversed")]
    OrderReversed,
    /// A filtered walk lists exactly the unfiltered listing's matching items, in order.
    #[strum(message = "a filtered walk lists exactly the matching items of the unfiltered one")]
    FilterSequence,
}

impl Invariant {
    /// Every invariant, in the order reports list them (the order of declaration).
    pub const ALL: &'static [Invariant] = <Invariant as strum::VariantArray>::VARIANTS;

    /// The page invariants a case file may select with `invariants = [...]`, in the order a
    /// case file's error lists them: what a list case checks when it names none.
    ///
    /// Status, content type, JSON and schema are always checked, so they are not listed here.
    pub const PAGE: [Invariant; 7] = [
        Invariant::PageSize,
        Invariant::FirstId,
        Invariant::LastId,
        Invariant::EmptyPage,
        Invariant::Order,
        Invariant::Filter,
        Invariant::Plausible,
    ];

    /// The stable name used in output, reports and case files.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// One line saying what the invariant means, shown next to its name.
    pub fn meaning(self) -> &'static str {
        strum::EnumMessage::get_message(&self).expect("every invariant has a `message`")
    }

    /// Whether a violation of it says the case could not be judged, not that the contract
    /// broke: no usable answer (`transport`: a timeout, no connection, a refused redirect,
    /// a rate limit or outage that outlasted the retries, a case past its time limit), a body
    /// over the harness's own cap (`body_size`), or a walk past its page budget
    /// (`page_budget`: a listing too long to walk is not proven endless). A run whose only
    /// failures are these exits 1, not 101.
    pub fn unjudged(self) -> bool {
        matches!(
            self,
            Invariant::Transport | Invariant::BodySize | Invariant::PageBudget
        )
    }
}

fn unknown_invariant(s: &str) -> String {
    format!("unknown invariant `{s}`")
}

impl TryFrom<String> for Invariant {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How bad a finding is: breaking drift fails the run; additive drift (a field or header the
/// contract does not describe) is a notice, unless the run is told to fail on it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Additive drift: clients that ignore unknown fields keep working.
    Additive,
    /// Breaking drift: a violation of an invariant.
    #[default]
    Breaking,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Additive => "additive",
            Severity::Breaking => "breaking",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::choice::parse(s, "severity")
    }
}

/// What kind of thing a response added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdditionKind {
    /// A property the schema does not declare, on the envelope or inside an item.
    Field,
    /// A response header outside the known ones.
    Header,
}

/// Additive drift: something a response carries that the contract does not describe. Reported
/// as a notice; it fails a case only with `--fail-on additive`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: AdditionKind,
    /// A field by its path, array positions as `[]` (`data[].priority`); a header by its
    /// lowercase name.
    pub name: String,
    /// For a field: one JSON pointer where it was seen (`/data/0/priority`).
    pub pointer: Option<String>,
    /// The request whose response carried it, as `GET <url>`; filled in by the runner.
    pub request: Option<String>,
    /// Which page of which walk, for notices found while walking.
    pub page: Option<PageRef>,
}

impl Notice {
    pub fn field(name: impl Into<String>, pointer: impl Into<String>) -> Self {
        Notice {
            kind: AdditionKind::Field,
            name: name.into(),
            pointer: Some(pointer.into()),
            request: None,
            page: None,
        }
    }

    pub fn header(name: impl Into<String>) -> Self {
        Notice {
            kind: AdditionKind::Header,
            name: name.into(),
            pointer: None,
            request: None,
            page: None,
        }
    }

    /// Always [`Severity::Additive`].
    pub fn severity(&self) -> Severity {
        Severity::Additive
    }

    /// Whether `other` reports the same addition (wherever it was seen).
    pub fn same_addition(&self, other: &Notice) -> bool {
        self.kind == other.kind && self.name == other.name
    }
}

/// One broken rule, with everything a reader needs to find it. Two are equal when they say
/// the same thing at the same place, whichever answer they were found on (`answer` is left out).
#[derive(Debug, Clone)]
pub struct Violation {
    pub invariant: Invariant,
    /// The request that produced the response, as `GET <url>`; filled in by the runner.
    pub request: Option<String>,
    /// The answer it was found on, unique in the run (filled in by the runner): a violation two
    /// cases report from one shared answer is one occurrence of its finding.
    pub answer: Option<u64>,
    /// Which page of which walk, for violations found while walking.
    pub page: Option<PageRef>,
    /// JSON pointer into the response body (`""` is the whole body).
    pub pointer: String,
    /// For schema violations: the keyword's location in the schema.
    pub schema_path: Option<String>,
    pub expected: String,
    pub actual: String,
}

impl PartialEq for Violation {
    fn eq(&self, other: &Self) -> bool {
        self.invariant == other.invariant
            && self.request == other.request
            && self.page == other.page
            && self.pointer == other.pointer
            && self.schema_path == other.schema_path
            && self.expected == other.expected
            && self.actual == other.actual
    }
}

impl Eq for Violation {}

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
            answer: None,
            page: None,
            pointer: pointer.into(),
            schema_path: None,
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

impl Violation {
    /// Every violation is breaking drift; additive drift is a [`Notice`].
    pub fn severity(&self) -> Severity {
        Severity::Breaking
    }

    /// The same violation, located on `page`.
    pub fn on_page(mut self, page: &PageRef) -> Self {
        self.page = Some(page.clone());
        self
    }
}

/// Where in a walk a response came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageRef {
    /// The walk, by its limit: `limit=7`, or `no limit (default 20)`.
    pub walk: String,
    /// 1-based page number; the end probe is numbered after the last page.
    pub page: u32,
    /// The cursor the page was asked for with; `None` on the first page.
    pub cursor: Option<String>,
    /// The request after a page with `has_more: false`, which must come back empty.
    pub probe: bool,
    /// The query parameter the cursor went in, when it is not `after` (`before`, `after_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

impl fmt::Display for PageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "walk {}, ", self.walk)?;
        if self.probe {
            write!(f, "end probe (page {})", self.page)?;
        } else {
            write!(f, "page {}", self.page)?;
        }
        match &self.cursor {
            Some(c) => write!(f, ", {}={c}", self.param.as_deref().unwrap_or("after")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<&str> = Invariant::ALL.iter().map(|i| i.name()).collect();
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Invariant::ALL.len());
    }

    #[test]
    fn invariants_read_back_from_their_names() {
        for &invariant in Invariant::ALL {
            assert!(
                !invariant.meaning().is_empty(),
                "{invariant:?} has a meaning"
            );
            assert_eq!(invariant.name().parse::<Invariant>(), Ok(invariant));
            let json = serde_json::to_string(&invariant).unwrap();
            assert_eq!(json, format!("\"{}\"", invariant.name()));
            assert_eq!(serde_json::from_str::<Invariant>(&json).unwrap(), invariant);
        }
        assert!("no_such_rule".parse::<Invariant>().is_err());
    }

    /// Every invariant's name, serde form and parse behaviour, written out by hand once, so a
    /// change in how they are produced (derived, not hand-listed) is proven to change nothing.
    #[test]
    fn the_registry_is_pinned() {
        use std::collections::BTreeMap;
        let pinned = [
            (Invariant::Transport, "transport"),
            (Invariant::Status, "status"),
            (Invariant::BodySize, "body_size"),
            (Invariant::ContentType, "content_type"),
            (Invariant::Json, "json"),
            (Invariant::Schema, "schema"),
            (Invariant::PageSize, "page_size"),
            (Invariant::FirstId, "first_id"),
            (Invariant::LastId, "last_id"),
            (Invariant::EmptyPage, "empty_page"),
            (Invariant::Order, "order"),
            (Invariant::Filter, "filter"),
            (Invariant::Plausible, "plausible"),
            (Invariant::PlausibleError, "plausible_error"),
            (Invariant::DuplicateId, "duplicate_id"),
            (Invariant::WalkOrder, "walk_order"),
            (Invariant::CursorCycle, "cursor_cycle"),
            (Invariant::HasMoreTrue, "has_more_true"),
            (Invariant::HasMoreFalse, "has_more_false"),
            (Invariant::PageBudget, "page_budget"),
            (Invariant::FirstPagePrefix, "first_page_prefix"),
            (Invariant::SameSequence, "same_sequence"),
            (Invariant::BackwardPage, "backward_page"),
            (Invariant::BackwardHasMore, "backward_has_more"),
            (Invariant::RoundTrip, "round_trip"),
            (Invariant::OrderReversed, "order_reversed"),
            (Invariant::FilterSequence, "filter_sequence"),
        ];
        // The same invariants, in the same order (the order reports list them in); one added
        // later joins the list without this test being told.
        let all: Vec<Invariant> = Invariant::ALL.to_vec();
        let known: Vec<Invariant> = all
            .iter()
            .copied()
            .filter(|i| pinned.iter().any(|(p, _)| p == i))
            .collect();
        assert_eq!(known, pinned.map(|(i, _)| i));
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(sorted, all, "Ord follows the declaration order");
        for (invariant, name) in pinned {
            assert_eq!(invariant.name(), name);
            assert_eq!(invariant.to_string(), name);
            assert_eq!(name.parse::<Invariant>(), Ok(invariant));
            assert!(!invariant.meaning().is_empty());
            let json = format!("\"{name}\"");
            assert_eq!(serde_json::to_string(&invariant).unwrap(), json);
            assert_eq!(serde_json::from_str::<Invariant>(&json).unwrap(), invariant);
            // As a map key (the JSON report's counts by invariant).
            let map = BTreeMap::from([(invariant, 1u32)]);
            let json = serde_json::to_string(&map).unwrap();
            assert_eq!(json, format!("{{\"{name}\":1}}"));
            assert_eq!(
                serde_json::from_str::<BTreeMap<Invariant, u32>>(&json).unwrap(),
                map
            );
            // Names are exact: no other case, no spaces, no Rust spelling.
            let upper = name.to_ascii_uppercase();
            assert_eq!(
                upper.parse::<Invariant>(),
                Err(format!("unknown invariant `{upper}`"))
            );
            let spaced = format!(" {name}");
            assert_eq!(
                spaced.parse::<Invariant>(),
                Err(format!("unknown invariant `{spaced}`"))
            );
            let rust = format!("{invariant:?}");
            if rust != name {
                assert_eq!(
                    rust.parse::<Invariant>(),
                    Err(format!("unknown invariant `{rust}`"))
                );
            }
        }
        assert_eq!(
            "".parse::<Invariant>(),
            Err("unknown invariant ``".to_owned())
        );
        assert_eq!(
            serde_json::from_str::<Invariant>("\"nope\"")
                .unwrap_err()
                .to_string(),
            "unknown invariant `nope`"
        );
        assert_eq!(
            serde_json::from_str::<Invariant>("3")
                .unwrap_err()
                .to_string(),
            "invalid type: integer `3`, expected a string at line 1 column 1"
        );
        assert_eq!(
            serde_json::from_str::<Invariant>("null")
                .unwrap_err()
                .to_string(),
            "invalid type: null, expected a string at line 1 column 4"
        );
    }

    #[test]
    fn page_refs_name_walk_page_and_cursor() {
        let mut p = PageRef {
            walk: "limit=7".into(),
            page: 3,
            cursor: Some("batch_b".into()),
            probe: false,
            param: None,
        };
        assert_eq!(p.to_string(), "walk limit=7, page 3, after=batch_b");
        p.probe = true;
        assert_eq!(
            p.to_string(),
            "walk limit=7, end probe (page 3), after=batch_b"
        );
    }
}
