//! The case model: what a case file says (its request, what to accept or how to walk), and a
//! loaded [`Case`] with its suite's contract.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::contract::Contract;
use crate::violation::Invariant;

/// The name of the file that holds a suite's contract parameters.
pub const CONTRACT_FILE: &str = "contract.toml";

/// A case file, as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// What the case proves and why; shown in reports.
    pub description: String,
    /// Skip this case, saying why (the trial is reported as ignored).
    #[serde(default)]
    pub skip: Option<String>,
    #[serde(default)]
    pub request: RequestSpec,
    /// A page case: the responses that conform; the response must match one of them.
    #[serde(default)]
    pub accept: Vec<Outcome>,
    /// A walk case: follow the cursor from the first page to the end.
    #[serde(default)]
    pub walk: Option<WalkSpec>,
    /// A cross-walk case: walks at several limits must agree.
    #[serde(default)]
    pub cross_walk: Option<CrossWalkSpec>,
    /// A backward-walk case: from the end of the listing back to its head with the
    /// contract's `backward` parameter, and round trips.
    #[serde(default)]
    pub backward_walk: Option<WalkSpec>,
    /// An order case: walks in both directions of the contract's `order_param` must list
    /// the same items, one the other reversed.
    #[serde(default)]
    pub order_walk: Option<WalkSpec>,
    /// A filter case: the walk with the filter must list exactly the matching items of the
    /// walk without it.
    #[serde(default)]
    pub filter_walk: Option<FilterWalkSpec>,
    /// Overrides of the run's retry and timeout settings for this case.
    #[serde(default)]
    pub limits: Limits,
}

/// What a case does, by the table its file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind<'a> {
    /// One request, judged against `[[accept]]`.
    Page(&'a [Outcome]),
    /// One walk, from the first page to the end.
    Walk(&'a WalkSpec),
    /// Walks at several limits, each checked, then compared.
    CrossWalk(&'a CrossWalkSpec),
    /// A forward walk, then back from its end to the head, then round trips.
    BackwardWalk(&'a WalkSpec),
    /// Walks in both directions, compared.
    OrderWalk(&'a WalkSpec),
    /// A walk with a filter against the walk without it.
    FilterWalk(&'a FilterWalkSpec),
}

impl CaseKind<'_> {
    /// Whether the case walks (and so may take long).
    pub fn walks(self) -> bool {
        !matches!(self, CaseKind::Page(_))
    }
}

impl CaseFile {
    /// What the case does. Loading guarantees exactly one kind is set.
    pub fn kind(&self) -> CaseKind<'_> {
        if let Some(w) = &self.walk {
            CaseKind::Walk(w)
        } else if let Some(x) = &self.cross_walk {
            CaseKind::CrossWalk(x)
        } else if let Some(w) = &self.backward_walk {
            CaseKind::BackwardWalk(w)
        } else if let Some(w) = &self.order_walk {
            CaseKind::OrderWalk(w)
        } else if let Some(f) = &self.filter_walk {
            CaseKind::FilterWalk(f)
        } else {
            CaseKind::Page(&self.accept)
        }
    }
}

/// `[filter_walk]`: walk with `param=value` and without it, at the same limit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterWalkSpec {
    /// One of the contract's `[[filters]]` parameters.
    pub param: String,
    /// The value to filter on.
    pub value: String,
    #[serde(default)]
    pub limit: WalkLimit,
    pub max_pages: Option<u32>,
    pub stop_after_items: Option<u64>,
}

impl FilterWalkSpec {
    /// The walk bounds of the spec, as a [`WalkSpec`] at its limit.
    pub fn walk(&self) -> WalkSpec {
        WalkSpec {
            limit: self.limit,
            max_pages: self.max_pages,
            stop_after_items: self.stop_after_items,
        }
    }
}

/// `[walk]`: follow `after = data[-1].id` from the first page until `has_more` is false.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalkSpec {
    /// The limit every page is asked for with (default: none sent).
    #[serde(default)]
    pub limit: WalkLimit,
    /// Pages the walk may take before it fails (default: `CONTRACT_MAX_PAGES`, else 1000).
    pub max_pages: Option<u32>,
    /// Items after which the walk stops short of the end, without failing (default:
    /// `CONTRACT_STOP_AFTER_ITEMS`, else walk to the end).
    pub stop_after_items: Option<u64>,
}

/// `[cross_walk]`: walks at several limits must yield the same ids in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossWalkSpec {
    /// The limits to walk at, e.g. `[1, 7, "default", "max"]`.
    pub limits: Vec<WalkLimit>,
    /// Pages each walk may take before it fails.
    pub max_pages: Option<u32>,
    /// Items after which each walk stops short of the end, without failing.
    pub stop_after_items: Option<u64>,
}

/// The limit a walk pages with: a number, the contract's default (no `limit` sent) or its
/// maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WalkLimit {
    /// No `limit` parameter: the server's default applies.
    #[default]
    Default,
    /// The contract's `max_limit`, sent.
    Max,
    /// This many, sent.
    N(u64),
}

impl WalkLimit {
    /// The value sent as the limit parameter; `None` when no parameter is sent.
    pub fn param(self, contract: &Contract) -> Option<u64> {
        match self {
            WalkLimit::Default => None,
            WalkLimit::Max => Some(contract.max_limit),
            WalkLimit::N(n) => Some(n),
        }
    }

    /// The most items a page of this walk may hold.
    pub fn page_size(self, contract: &Contract) -> u64 {
        self.param(contract).unwrap_or(contract.default_limit)
    }

    /// How the walk is named in messages: `limit=7`, or `no limit (default 20)`.
    pub fn label(self, contract: &Contract) -> String {
        match self.param(contract) {
            Some(n) => format!("limit={n}"),
            None => format!("no limit (default {})", contract.default_limit),
        }
    }
}

impl<'de> Deserialize<'de> for WalkLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = WalkLimit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a positive integer, \"default\" or \"max\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WalkLimit, E> {
                match v {
                    "default" => Ok(WalkLimit::Default),
                    "max" => Ok(WalkLimit::Max),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WalkLimit, E> {
                u64::try_from(v)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                    .and_then(|n| self.visit_u64(n))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WalkLimit, E> {
                if v == 0 {
                    return Err(E::invalid_value(de::Unexpected::Unsigned(v), &self));
                }
                Ok(WalkLimit::N(v))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A case's own retry and timeout settings; each unset one falls back to the run's.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Attempts per request, the first included.
    pub retry_attempts: Option<u32>,
    /// Seconds one request may spend on retries.
    pub retry_budget_secs: Option<f64>,
    /// Seconds one request may take, body included.
    pub request_timeout_secs: Option<f64>,
    /// Seconds the whole case may take.
    pub case_timeout_secs: Option<f64>,
}

/// What to send.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// Query parameters, sent in name order; values may be strings or integers.
    #[serde(default)]
    pub query: BTreeMap<String, QueryValue>,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Headers the contract requires that this request leaves out, to prove the server
    /// refuses it (`["anthropic-version"]`).
    #[serde(default)]
    pub omit_headers: Vec<String>,
    #[serde(default)]
    pub auth: AuthMode,
}

/// Which credentials a case sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// The configured key in the configured style.
    #[default]
    Valid,
    /// No credentials at all.
    None,
    /// A key that no server can have issued, in the configured style.
    Wrong,
}

/// A query value as the case wrote it: a string or an integer, sent as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryValue(pub String);

impl<'de> Deserialize<'de> for QueryValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = QueryValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<QueryValue, E> {
                Ok(QueryValue(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<QueryValue, E> {
                Ok(QueryValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<QueryValue, E> {
                Ok(QueryValue(v.to_string()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Which schema the body must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// The list envelope: schema plus the page invariants.
    List,
    /// The error body.
    Error,
}

/// One acceptable response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub status: u16,
    pub schema: BodyKind,
    /// Page invariants to check (only with `schema = "list"`); all of them when omitted.
    #[serde(default, deserialize_with = "page_invariants")]
    pub invariants: Option<Vec<Invariant>>,
}

impl Outcome {
    /// The page invariants this outcome checks.
    pub fn page_invariants(&self) -> &[Invariant] {
        match (&self.invariants, self.schema) {
            (_, BodyKind::Error) => &[],
            (Some(list), BodyKind::List) => list,
            (None, BodyKind::List) => &Invariant::PAGE,
        }
    }
}

/// Reads `invariants = [...]`: names of [`Invariant::PAGE`], each read as a variant of an enum
/// of those names (as serde reads an enum: a name outside them is an unknown variant, and the
/// error lists them).
fn page_invariants<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Invariant>>, D::Error> {
    /// One page invariant, read as a unit variant of the enum `PageInvariant`.
    struct Page(Invariant);

    /// Its variant's name (or index), as serde reads a variant identifier.
    struct Name(Invariant);

    /// The names a case file may give, in [`Invariant::PAGE`]'s order.
    fn names() -> &'static [&'static str] {
        static NAMES: std::sync::LazyLock<Vec<&'static str>> =
            std::sync::LazyLock::new(|| Invariant::PAGE.iter().map(|i| i.name()).collect());
        &NAMES
    }

    impl<'de> Deserialize<'de> for Page {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Page;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("enum PageInvariant")
                }
                fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Page, A::Error> {
                    let (Name(invariant), variant) = data.variant()?;
                    de::VariantAccess::unit_variant(variant)?;
                    Ok(Page(invariant))
                }
            }
            d.deserialize_enum("PageInvariant", names(), V)
        }
    }

    impl<'de> Deserialize<'de> for Name {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Name;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("variant identifier")
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Name, E> {
                    let page = &Invariant::PAGE;
                    match usize::try_from(v).ok().and_then(|i| page.get(i)) {
                        Some(&invariant) => Ok(Name(invariant)),
                        None => Err(E::invalid_value(
                            de::Unexpected::Unsigned(v),
                            &format!("variant index 0 <= i < {}", page.len()).as_str(),
                        )),
                    }
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Name, E> {
                    match Invariant::PAGE.into_iter().find(|i| i.name() == v) {
                        Some(invariant) => Ok(Name(invariant)),
                        None => Err(E::unknown_variant(v, names())),
                    }
                }
                fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Name, E> {
                    self.visit_str(&String::from_utf8_lossy(v))
                }
            }
            d.deserialize_identifier(V)
        }
    }

    let pages = Vec::<Page>::deserialize(d)?;
    Ok(Some(pages.into_iter().map(|Page(p)| p).collect()))
}

/// A loaded case: its file, its trial name and its suite's contract.
#[derive(Debug, Clone)]
pub struct Case {
    /// `suite::case`, from the path below the cases folder.
    pub name: String,
    pub path: PathBuf,
    pub file: CaseFile,
    pub contract: Arc<Contract>,
    /// The `contract.toml` the contract came from.
    pub contract_path: PathBuf,
}

impl Case {
    /// The suite the case belongs to: the first part of its name (`list_batches`).
    pub fn suite(&self) -> &str {
        self.name.split("::").next().unwrap_or(&self.name)
    }

    /// The case's query parameters as `(name, value)` pairs, in name order.
    pub fn query_pairs(&self) -> Vec<(&str, &str)> {
        self.file
            .request
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.0.as_str()))
            .collect()
    }

    /// The limit the page invariants hold the response to: the `limit` the case sends
    /// when it is a non-negative integer, otherwise the contract's default.
    pub fn effective_limit(&self) -> u64 {
        self.file
            .request
            .query
            .get(&self.contract.limit_param)
            .and_then(|v| v.0.trim().parse::<u64>().ok())
            .unwrap_or(self.contract.default_limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::load::tests::{DESC, parse};

    #[test]
    fn unknown_invariant_lists_the_known_ones() {
        let err = parse(
            "description = \"d\"\n[[accept]]\nstatus = 200\nschema = \"list\"\ninvariants = [\"page_sise\"]\n",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("page_sise") && msg.contains("page_size"),
            "{msg}"
        );
        assert!(msg.starts_with("cases/s/c.toml:5:"), "{msg}");
    }

    /// What a case file's `invariants = [...]` accepts, its order and its error messages,
    /// written out once so a change in where the page invariants come from changes nothing.
    #[test]
    fn page_invariants_are_pinned() {
        use crate::violation::Invariant;
        let outcome = |list: &str| {
            parse(&format!(
                "description = \"d\"\n[[accept]]\nstatus = 200\nschema = \"list\"\n{list}"
            ))
            .map(|f| f.accept[0].page_invariants().to_vec())
            .map_err(|e| e.to_string())
        };
        let all = vec![
            Invariant::PageSize,
            Invariant::FirstId,
            Invariant::LastId,
            Invariant::EmptyPage,
            Invariant::Order,
            Invariant::Filter,
            Invariant::Plausible,
        ];
        assert_eq!(outcome(""), Ok(all.clone()));
        let mut reversed = all.clone();
        reversed.reverse();
        let names: Vec<String> = reversed.iter().map(|i| format!("\"{i}\"")).collect();
        let list = format!("invariants = [{}]\n", names.join(", "));
        assert_eq!(outcome(&list), Ok(reversed));
        assert_eq!(outcome("invariants = []\n"), Ok(vec![]));
        let expected = "expected one of `page_size`, `first_id`, `last_id`, `empty_page`, \
                        `order`, `filter`, `plausible`";
        assert_eq!(
            outcome("invariants = [\"schema\"]\n"),
            Err(format!(
                "cases/s/c.toml:5:15: unknown variant `schema`, {expected} (at key `accept[0].invariants[0]`)"
            ))
        );
        assert_eq!(
            outcome("invariants = [\"order\", \"PageSize\"]\n"),
            Err(format!(
                "cases/s/c.toml:5:24: unknown variant `PageSize`, {expected} (at key `accept[0].invariants[1]`)"
            ))
        );
        assert_eq!(
            outcome("invariants = [3]\n"),
            Err(
                "cases/s/c.toml:5:15: wanted string or table (at key `accept[0].invariants[0]`)"
                    .to_owned()
            )
        );
        assert_eq!(
            outcome("invariants = \"order\"\n"),
            Err(
                "cases/s/c.toml:5:14: invalid type: string \"order\", expected a sequence \
                 (at key `accept[0].invariants`)"
                    .to_owned()
            )
        );
        // Inline-table spelling of a unit variant, as TOML reads enums.
        assert_eq!(
            outcome("invariants = [{ order = {} }]\n"),
            Ok(vec![Invariant::Order])
        );
        let error = parse(
            "description = \"d\"\n[[accept]]\nstatus = 400\nschema = \"error\"\ninvariants = [\"order\"]\n",
        )
        .unwrap();
        assert!(error.accept[0].page_invariants().is_empty());
    }

    #[test]
    fn query_accepts_strings_and_integers_only() {
        let ok = parse("description = \"d\"\n[request]\nquery = { limit = 7, after = \"x\" }\n[[accept]]\nstatus = 200\nschema = \"list\"\n").unwrap();
        assert_eq!(ok.request.query["limit"], QueryValue("7".into()));
        let err = parse("description = \"d\"\n[request]\nquery = { limit = [1] }\n[[accept]]\nstatus = 200\nschema = \"list\"\n").unwrap_err();
        assert!(err.to_string().contains("a string or an integer"), "{err}");
    }

    fn walk_file(walk: &str) -> CaseFile {
        parse(&format!("{DESC}[walk]\n{walk}")).unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn walk_limit_parses_number_default_and_max() {
        let seven = walk_file("limit = 7\n");
        assert_eq!(seven.walk.as_ref().unwrap().limit, WalkLimit::N(7));
        assert!(matches!(seven.kind(), CaseKind::Walk(w) if w.limit == WalkLimit::N(7)));
        assert_eq!(
            walk_file("limit = \"max\"\n").walk.unwrap().limit,
            WalkLimit::Max
        );
        let omitted = walk_file("max_pages = 3\n").walk.unwrap();
        assert_eq!(omitted.limit, WalkLimit::Default);
        assert_eq!(omitted.max_pages, Some(3));
    }

    #[test]
    fn cross_walk_parses_mixed_limits() {
        let f = parse(&format!(
            "{DESC}[cross_walk]\nlimits = [1, 7, \"default\", \"max\"]\n"
        ))
        .unwrap();
        let want = [
            WalkLimit::N(1),
            WalkLimit::N(7),
            WalkLimit::Default,
            WalkLimit::Max,
        ];
        assert!(matches!(f.kind(), CaseKind::CrossWalk(x) if x.limits == want));
    }

    #[test]
    fn page_case_kind_is_page() {
        let f = parse(&format!(
            "{DESC}[[accept]]\nstatus = 200\nschema = \"list\"\n"
        ))
        .unwrap();
        assert!(matches!(f.kind(), CaseKind::Page([o]) if o.status == 200));
    }

    #[test]
    fn bad_walk_limits_name_the_key_and_what_is_expected() {
        for (value, got) in [
            ("0", "integer `0`"),
            ("-3", "integer `-3`"),
            ("\"maximum\"", "string \"maximum\""),
        ] {
            let msg = parse_err(&format!("{DESC}[walk]\nlimit = {value}\n"));
            assert!(msg.starts_with("cases/s/c.toml:3:"), "{value}: {msg}");
            assert!(msg.contains(got), "{value}: {msg}");
            assert!(
                msg.contains("expected a positive integer, \"default\" or \"max\""),
                "{value}: {msg}"
            );
            assert!(msg.ends_with("(at key `walk.limit`)"), "{value}: {msg}");
        }
    }
}
