//! Findings: violations that share a cause, counted once. Plain data, no I/O.
//!
//! A server that sends `created_at` as a string breaks the schema on every item of every page:
//! thousands of violations with one cause. They are one [`Finding`], keyed by what they share
//! ([`FindingKey`]: the invariant, the schema keyword or check, the JSON pointer with array
//! positions generalised to `*`, and the expected value where it names the rule rather than a
//! page's own ids), with counts (occurrences, items, pages, requests, cases) and the first
//! [`EXAMPLES`] occurrences in full.
//!
//! What a case keeps is bounded whatever the server sends ([`Violations`]): its first
//! [`KEPT_PER_CASE`] violations in full, plus the first of every finding, and per finding one
//! counter per request that showed it; at most [`MAX_FINDINGS`] findings per case (further
//! places fold into one finding per invariant, `(other places)`). A run's findings are the
//! cases' merged: a request two cases share (a walk several cases use) counts once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};

use crate::violation::{AdditionKind, Invariant, Notice, Severity, Violation};

/// Violations a case (or a walk) keeps in full, besides the first of each finding.
pub const KEPT_PER_CASE: usize = 10;
/// Occurrences a finding keeps in full, as examples.
pub const EXAMPLES: usize = 3;
/// Distinct findings a case keeps; more fold into one per invariant at `(other places)`.
pub const MAX_FINDINGS: usize = 100;
/// The pointer of the finding that holds what [`MAX_FINDINGS`] left no room for.
pub const OTHER_PLACES: &str = "(other places)";

/// What the violations of one finding share.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FindingKey {
    /// The suite (`list_batches`); empty inside a case, where it goes without saying.
    pub suite: String,
    /// The invariant broken; `None` for additive drift (a new field or header).
    pub invariant: Option<Invariant>,
    /// The schema keyword's location for `schema`; `new field`/`new header` for additive drift;
    /// empty otherwise.
    pub detail: String,
    /// The JSON pointer with array positions as `*` (`/data/*/created_at`); a new field's
    /// path (`data[].priority`) or a new header's name.
    pub pointer: String,
    /// What was expected, where it names the rule (a type, a status); empty where it names a
    /// page's own values (an id, a count), which differ on every page.
    pub expected: String,
}

impl FindingKey {
    /// The key of `v` (with no suite).
    pub fn of(v: &Violation) -> FindingKey {
        FindingKey {
            suite: String::new(),
            invariant: Some(v.invariant),
            detail: v.schema_path.clone().unwrap_or_default(),
            pointer: generalise(&v.pointer),
            expected: if expected_names_the_rule(v.invariant) {
                v.expected.clone()
            } else {
                String::new()
            },
        }
    }

    /// The key of an addition (with no suite).
    pub fn of_notice(n: &Notice) -> FindingKey {
        FindingKey {
            suite: String::new(),
            invariant: None,
            detail: match n.kind {
                AdditionKind::Field => "new field".to_owned(),
                AdditionKind::Header => "new header".to_owned(),
            },
            pointer: n.name.clone(),
            expected: String::new(),
        }
    }

    /// Breaking for a violation, additive for an addition.
    pub fn severity(&self) -> Severity {
        match self.invariant {
            Some(_) => Severity::Breaking,
            None => Severity::Additive,
        }
    }

    /// The rule's name: the invariant, or `new_field`/`new_header`.
    pub fn rule(&self) -> String {
        match self.invariant {
            Some(i) => i.name().to_owned(),
            None => self.detail.replace(' ', "_"),
        }
    }

    /// One line naming the finding: `schema at /data/*/created_at
    /// (batch.json#/properties/created_at/type)`.
    pub fn label(&self) -> String {
        let mut out = match self.invariant {
            Some(i) => i.name().to_owned(),
            None => self.detail.clone(),
        };
        if !self.pointer.is_empty() {
            let word = if self.invariant.is_some() {
                " at "
            } else {
                " "
            };
            out.push_str(word);
            out.push_str(&self.pointer);
        }
        if self.invariant.is_some() && !self.detail.is_empty() {
            out.push_str(&format!(" ({})", self.detail));
        } else if !self.expected.is_empty() {
            // Two `status` findings differ by what was expected.
            out.push_str(&format!(" (expected {})", self.expected));
        }
        out
    }

    /// The same key in `suite`.
    fn in_suite(&self, suite: &str) -> FindingKey {
        FindingKey {
            suite: suite.to_owned(),
            ..self.clone()
        }
    }

    /// The key that holds what [`MAX_FINDINGS`] left no room for.
    fn other_places(&self) -> FindingKey {
        FindingKey {
            suite: self.suite.clone(),
            invariant: self.invariant,
            detail: String::new(),
            pointer: OTHER_PLACES.to_owned(),
            expected: String::new(),
        }
    }
}

/// Whether an invariant's `expected` text names the rule (a type, a status, a content type)
/// and so belongs in the key, rather than a page's own values (ids, counts).
fn expected_names_the_rule(invariant: Invariant) -> bool {
    matches!(
        invariant,
        Invariant::Transport
            | Invariant::Status
            | Invariant::BodySize
            | Invariant::ContentType
            | Invariant::Json
            | Invariant::Schema
            | Invariant::PlausibleError
    )
}

/// A JSON pointer with every array position written `*`: `/data/12/created_at` →
/// `/data/*/created_at`. Object keys that are numbers are generalised too: a pointer does not
/// say which is which, and a per-key finding is the flood this avoids.
pub fn generalise(pointer: &str) -> String {
    if pointer.is_empty() {
        return String::new();
    }
    pointer
        .split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                "*"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The first array position in a pointer: the item a violation is about (`/data/12/x` → 12).
fn item_of(pointer: &str) -> Option<u64> {
    pointer
        .split('/')
        .find(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
}

fn hash_of(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// What one request showed of one finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct OnRequest {
    occurrences: u64,
    items: u64,
    /// Whether the request was a page of a walk.
    page: bool,
    last_item: Option<u64>,
}

impl OnRequest {
    fn add(&mut self, v: &Violation) {
        self.occurrences += 1;
        self.page |= v.page.is_some();
        if let Some(item) = item_of(&v.pointer)
            && self.last_item != Some(item)
        {
            self.items += 1;
            self.last_item = Some(item);
        }
    }

    /// The larger of two counts of the same request (two cases saw the same answer).
    fn max(&mut self, other: &OnRequest) {
        if other.occurrences > self.occurrences {
            *self = *other;
        }
    }
}

/// One finding's counts and examples within a case: bounded by the requests that showed it.
#[derive(Debug, Clone, Default)]
pub struct Tallied {
    /// Per answer (its id, or else its request line hashed), what it showed.
    requests: HashMap<u64, OnRequest>,
    /// What occurrences with no request showed (a comparison of walks, a timeout).
    unplaced: OnRequest,
    /// The first occurrences, in full.
    pub examples: Vec<Violation>,
}

impl Tallied {
    fn add(&mut self, v: &Violation) {
        match (v.answer, &v.request) {
            (Some(answer), _) => self.requests.entry(answer).or_default().add(v),
            (None, Some(r)) => self.requests.entry(hash_of(r)).or_default().add(v),
            (None, None) => self.unplaced.add(v),
        }
        if self.examples.len() < EXAMPLES {
            self.examples.push(v.clone());
        }
    }

    fn merge(&mut self, other: &Tallied) {
        for (r, on) in &other.requests {
            self.requests.entry(*r).or_default().max(on);
        }
        self.unplaced.occurrences += other.unplaced.occurrences;
        self.unplaced.items += other.unplaced.items;
        for e in &other.examples {
            if self.examples.len() >= EXAMPLES {
                break;
            }
            if !self.examples.contains(e) {
                self.examples.push(e.clone());
            }
        }
    }

    /// Walk pages that showed it.
    pub fn pages(&self) -> u64 {
        self.requests.values().filter(|r| r.page).count() as u64
    }

    /// Requests (answers) that showed it.
    pub fn requests(&self) -> u64 {
        self.requests.len() as u64
    }

    /// Occurrences in all.
    pub fn occurrences(&self) -> u64 {
        self.unplaced.occurrences + self.requests.values().map(|r| r.occurrences).sum::<u64>()
    }
}

/// A case's violations, bounded: the first [`KEPT_PER_CASE`] in full and the first of each
/// finding, and every one counted under its finding.
///
/// It reads as the slice of the violations kept (`violations[0]`, `.iter()`); [`total`]
/// counts them all.
///
/// [`total`]: Violations::total
#[derive(Debug, Clone, Default)]
pub struct Violations {
    kept: Vec<Violation>,
    /// Findings in order of first occurrence.
    tally: Vec<(FindingKey, Tallied)>,
    index: HashMap<FindingKey, usize>,
}

impl Violations {
    /// Adds `v`: counted under its finding, and kept in full if it is among the first or
    /// the first of its finding.
    pub fn push(&mut self, v: Violation) {
        let (i, new) = self.slot(FindingKey::of(&v));
        self.tally[i].1.add(&v);
        if new || self.kept.len() < KEPT_PER_CASE {
            self.kept.push(v);
        }
    }

    /// The finding `key` is counted under, and whether it is new.
    fn slot(&mut self, key: FindingKey) -> (usize, bool) {
        if let Some(&i) = self.index.get(&key) {
            return (i, false);
        }
        let key = if self.tally.len() >= MAX_FINDINGS {
            let other = key.other_places();
            if let Some(&i) = self.index.get(&other) {
                return (i, false);
            }
            other
        } else {
            key
        };
        self.index.insert(key.clone(), self.tally.len());
        self.tally.push((key, Tallied::default()));
        (self.tally.len() - 1, true)
    }

    /// Adds everything `other` holds (a walk's violations to the case that used it); a request
    /// both counted is counted once.
    pub fn merge(&mut self, other: &Violations) {
        let mut new_keys = BTreeSet::new();
        for (key, tallied) in &other.tally {
            let (i, new) = self.slot(key.clone());
            if new {
                new_keys.insert(i);
            }
            self.tally[i].1.merge(tallied);
        }
        for v in &other.kept {
            let i = self.index[&self.key_in_tally(v)];
            if self.kept.len() < KEPT_PER_CASE || new_keys.remove(&i) {
                self.kept.push(v.clone());
            }
        }
    }

    /// The key `v` is counted under here (its own, or its invariant's other places).
    fn key_in_tally(&self, v: &Violation) -> FindingKey {
        let key = FindingKey::of(v);
        if self.index.contains_key(&key) {
            key
        } else {
            key.other_places()
        }
    }

    /// Violations in all, kept or only counted.
    pub fn total(&self) -> u64 {
        self.tally.iter().map(|(_, t)| t.occurrences()).sum()
    }

    /// The findings, in order of first occurrence, with their counts here.
    pub fn findings(&self) -> impl Iterator<Item = (&FindingKey, &Tallied)> {
        self.tally.iter().map(|(k, t)| (k, t))
    }

    /// The finding a kept violation is counted under.
    pub fn finding_of(&self, v: &Violation) -> FindingKey {
        self.key_in_tally(v)
    }

    /// Occurrences of the finding `key` here.
    pub fn occurrences_of(&self, key: &FindingKey) -> u64 {
        self.index
            .get(key)
            .map_or(0, |&i| self.tally[i].1.occurrences())
    }
}

/// The same violations kept, and the same findings with the same counts (whichever answers
/// they were found on).
impl PartialEq for Violations {
    fn eq(&self, other: &Self) -> bool {
        let counts = |v: &Violations| -> Vec<(FindingKey, u64, u64, u64)> {
            v.tally
                .iter()
                .map(|(k, t)| (k.clone(), t.occurrences(), t.pages(), t.requests()))
                .collect()
        };
        self.kept == other.kept && counts(self) == counts(other)
    }
}

impl Eq for Violations {}

impl std::ops::Deref for Violations {
    type Target = [Violation];

    fn deref(&self) -> &[Violation] {
        &self.kept
    }
}

impl Extend<Violation> for Violations {
    fn extend<I: IntoIterator<Item = Violation>>(&mut self, iter: I) {
        for v in iter {
            self.push(v);
        }
    }
}

impl FromIterator<Violation> for Violations {
    fn from_iter<I: IntoIterator<Item = Violation>>(iter: I) -> Self {
        let mut out = Violations::default();
        out.extend(iter);
        out
    }
}

impl From<Vec<Violation>> for Violations {
    fn from(v: Vec<Violation>) -> Self {
        v.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.kept.iter()
    }
}

/// One occurrence of a finding in full: the case, and the violation with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub case: String,
    pub violation: Violation,
}

/// A finding of a run: what its occurrences share, how many there were and where, and the
/// first few in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based, in rank order: `#1` is the most severe, then the broadest.
    pub id: usize,
    pub key: FindingKey,
    pub severity: Severity,
    /// Violations (or, for additive drift, responses that showed the addition: 1 per case).
    pub occurrences: u64,
    /// Distinct items (array positions on a response) the violations were on.
    pub items: u64,
    /// Pages of walks that showed it.
    pub pages: u64,
    /// Requests that showed it (a request two cases share counts once).
    pub requests: u64,
    /// The cases that showed it, in name order.
    pub cases: Vec<String>,
    /// The first occurrences in full, at most [`EXAMPLES`]; for additive drift, none (the
    /// notice's own location is in `first_notice`).
    pub examples: Vec<Example>,
    /// For additive drift: where it was first seen.
    pub first_notice: Option<(String, Notice)>,
}

impl Finding {
    /// The first occurrence's expected and actual value, for a one-line summary.
    pub fn first(&self) -> Option<&Example> {
        self.examples.first()
    }
}

/// Merges the findings of a run's cases (`(case name, violations, notices)` in name order) and
/// ranks them: breaking before additive, then by breadth (cases, requests, occurrences), then
/// by key. Ids follow the rank.
pub fn rank<'a>(
    cases: impl IntoIterator<Item = (&'a str, &'a Violations, &'a [Notice])>,
) -> Vec<Finding> {
    struct Acc {
        tally: Tallied,
        /// Per case: occurrences with no request (they are the case's own).
        unplaced: BTreeMap<String, OnRequest>,
        cases: BTreeSet<String>,
        examples: Vec<Example>,
        first_notice: Option<(String, Notice)>,
    }
    let mut acc: BTreeMap<FindingKey, Acc> = BTreeMap::new();
    let new_acc = || Acc {
        tally: Tallied::default(),
        unplaced: BTreeMap::new(),
        cases: BTreeSet::new(),
        examples: Vec::new(),
        first_notice: None,
    };
    for (case, violations, notices) in cases {
        let suite = case.split("::").next().unwrap_or(case);
        for (key, tallied) in violations.findings() {
            let a = acc.entry(key.in_suite(suite)).or_insert_with(new_acc);
            for (r, on) in &tallied.requests {
                a.tally.requests.entry(*r).or_default().max(on);
            }
            if tallied.unplaced.occurrences > 0 {
                a.unplaced.insert(case.to_owned(), tallied.unplaced);
            }
            a.cases.insert(case.to_owned());
            for v in &tallied.examples {
                if a.examples.len() < EXAMPLES && !a.examples.iter().any(|e| &e.violation == v) {
                    a.examples.push(Example {
                        case: case.to_owned(),
                        violation: v.clone(),
                    });
                }
            }
        }
        for n in notices {
            let a = acc
                .entry(FindingKey::of_notice(n).in_suite(suite))
                .or_insert_with(new_acc);
            a.cases.insert(case.to_owned());
            a.unplaced.entry(case.to_owned()).or_default().occurrences += 1;
            if a.first_notice.is_none() {
                a.first_notice = Some((case.to_owned(), n.clone()));
            }
        }
    }
    let mut out: Vec<Finding> = acc
        .into_iter()
        .map(|(key, a)| {
            let placed = a.tally.requests.values();
            let unplaced = a.unplaced.values();
            Finding {
                severity: key.severity(),
                occurrences: placed
                    .clone()
                    .chain(unplaced.clone())
                    .map(|r| r.occurrences)
                    .sum(),
                items: placed.clone().chain(unplaced).map(|r| r.items).sum(),
                pages: placed.clone().filter(|r| r.page).count() as u64,
                requests: placed.count() as u64,
                cases: a.cases.into_iter().collect(),
                examples: a.examples,
                first_notice: a.first_notice,
                key,
                id: 0,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.cases.len().cmp(&a.cases.len()))
            .then(b.requests.cmp(&a.requests))
            .then(b.occurrences.cmp(&a.occurrences))
            .then(a.key.cmp(&b.key))
    });
    for (i, f) in out.iter_mut().enumerate() {
        f.id = i + 1;
    }
    out
}

/// The breaking findings among `findings`, in their order (additive drift left out).
pub fn breaking(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Breaking)
        .collect()
}

/// Breaking findings per invariant: `(invariant, findings, occurrences)`, in the order
/// invariants are declared.
pub fn by_invariant(findings: &[Finding]) -> Vec<(Invariant, usize, u64)> {
    let mut counts: BTreeMap<Invariant, (usize, u64)> = BTreeMap::new();
    for f in findings {
        if let Some(i) = f.key.invariant {
            let c = counts.entry(i).or_default();
            c.0 += 1;
            c.1 += f.occurrences;
        }
    }
    counts.into_iter().map(|(i, (f, o))| (i, f, o)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::violation::PageRef;

    fn schema(item: usize, page: u32) -> Violation {
        let mut v = Violation::new(
            Invariant::Schema,
            format!("/data/{item}/created_at"),
            "of type \"integer\"",
            format!("\"{item}\""),
        );
        v.schema_path = Some("batch.json#/properties/created_at/type".into());
        v.request = Some(format!("GET http://h/v1/batches?page={page}"));
        v.on_page(&PageRef {
            walk: "limit=7".into(),
            page,
            cursor: None,
            probe: false,
            param: None,
        })
    }

    #[test]
    fn pointers_generalise_array_positions() {
        assert_eq!(generalise("/data/12/created_at"), "/data/*/created_at");
        assert_eq!(generalise("/data/0/items/3"), "/data/*/items/*");
        assert_eq!(generalise(""), "");
        assert_eq!(generalise("/last_id"), "/last_id");
        assert_eq!(item_of("/data/12/created_at"), Some(12));
        assert_eq!(item_of("/last_id"), None);
    }

    #[test]
    fn one_cause_is_one_finding_and_memory_is_bounded() {
        let mut vs = Violations::default();
        for page in 1..=50 {
            for item in 0..1000 {
                vs.push(schema(item, page));
            }
        }
        let mut last = Violation::new(Invariant::LastId, "/last_id", "\"a\"", "\"b\"");
        last.request = Some("GET http://h/v1/batches?page=1".into());
        vs.push(last);
        assert_eq!(vs.total(), 50_001);
        assert_eq!(vs.findings().count(), 2);
        assert_eq!(
            vs.len(),
            KEPT_PER_CASE + 1,
            "the first ten, and the first last_id"
        );
        let (key, t) = vs.findings().next().unwrap();
        assert_eq!(key.pointer, "/data/*/created_at");
        assert_eq!(t.examples.len(), EXAMPLES);
        assert_eq!(t.requests.len(), 50);
    }

    #[test]
    fn distinct_places_beyond_the_cap_fold_into_other_places() {
        let mut vs = Violations::default();
        for k in 0..(MAX_FINDINGS + 50) {
            vs.push(Violation::new(
                Invariant::Plausible,
                format!("/metadata/k{k}"),
                "x",
                "y",
            ));
        }
        assert_eq!(vs.findings().count(), MAX_FINDINGS + 1);
        let other = vs.findings().last().unwrap();
        assert_eq!(other.0.pointer, OTHER_PLACES);
        assert_eq!(other.1.occurrences(), 50);
        assert_eq!(vs.total(), (MAX_FINDINGS + 50) as u64);
    }

    #[test]
    fn a_request_two_cases_share_counts_once_and_ranking_is_by_severity_then_breadth() {
        let walk: Violations = (0..7).map(|i| schema(i, 1)).collect();
        let mut a = Violations::default();
        a.merge(&walk);
        let mut b = Violations::default();
        b.merge(&walk);
        let mut cmp = Violations::default();
        cmp.push(Violation::new(Invariant::SameSequence, "", "x", "y"));
        let notice = Notice::field("data[].priority", "/data/0/priority");
        let notices = [notice];
        let findings = rank([
            ("s::a", &a, &[][..]),
            ("s::b", &b, &notices[..]),
            ("s::c", &cmp, &[][..]),
        ]);
        assert_eq!(findings.len(), 3);
        assert_eq!(findings[0].key.invariant, Some(Invariant::Schema));
        assert_eq!(findings[0].occurrences, 7, "shared, counted once");
        assert_eq!(findings[0].items, 7);
        assert_eq!(findings[0].requests, 1);
        assert_eq!(findings[0].pages, 1);
        assert_eq!(findings[0].cases, ["s::a", "s::b"]);
        assert_eq!(findings[0].key.suite, "s");
        assert_eq!(findings[0].examples.len(), EXAMPLES);
        assert_eq!(findings[1].key.invariant, Some(Invariant::SameSequence));
        assert_eq!(findings[2].severity, Severity::Additive);
        assert_eq!(findings[2].key.label(), "new field data[].priority");
        assert_eq!(findings.iter().map(|f| f.id).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(
            by_invariant(&findings),
            [(Invariant::Schema, 1, 7), (Invariant::SameSequence, 1, 1)]
        );
    }
}
