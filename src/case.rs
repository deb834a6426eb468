//! Case files: what one test asks of the endpoint and what must hold, loaded from
//! `cases/<suite>/*.toml` next to the suite's `contract.toml`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use crate::contract::{Contract, CursorSource};
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
    /// Pages the walk may take before it fails (default: `CONTRACT_MAX_PAGES`, else 10000).
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

impl Case {
    /// Replaces `${NAME}` in the request's header and query values with the value of the
    /// variable `NAME`, so secrets stay out of case files. A variable that is not set is an
    /// error naming the case file and the key.
    pub fn expand_vars(&mut self, var: &dyn Fn(&str) -> Option<String>) -> Result<(), LoadError> {
        let request = &mut self.file.request;
        let values = request
            .headers
            .iter_mut()
            .map(|(k, v)| (format!("request.headers.{k}"), v))
            .chain(
                request
                    .query
                    .iter_mut()
                    .map(|(k, v)| (format!("request.query.{k}"), &mut v.0)),
            );
        for (key, value) in values {
            *value = expand(value, var).map_err(|name| LoadError::Invalid {
                path: self.path.clone(),
                message: format!("`{key}` uses ${{{name}}}, which is not set (export {name})"),
            })?;
        }
        Ok(())
    }
}

/// `${NAME}` → the variable's value; `Err(NAME)` for the first variable that is not set.
fn expand(text: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        let name = &rest[start + 2..start + 2 + len];
        out.push_str(&rest[..start]);
        out.push_str(&var(name).ok_or_else(|| name.to_owned())?);
        rest = &rest[start + 3 + len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A case folder or file that cannot be used. Each names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {}: {source} (check the path and its permissions)", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}{}", path.display(), key.as_deref().map(|k| format!(" (at key `{k}`)")).unwrap_or_default())]
    Parse {
        path: PathBuf,
        /// The dotted key path, when the error is about a value.
        key: Option<String>,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("{}: no {CONTRACT_FILE} in its folder or any folder above it inside {} (each suite folder needs one)", path.display(), root.display())]
    NoContract { path: PathBuf, root: PathBuf },
    #[error("no case files found in {} (add `<suite>/<case>.toml` files beside a {CONTRACT_FILE}, or point CONTRACT_CASES_DIR / --cases at the right folder)", dir.display())]
    NoCases { dir: PathBuf },
}

/// Loads every case below `root`, sorted by name. All problems are returned, not just the first.
pub fn load_cases(root: &Path) -> Result<Vec<Case>, Vec<LoadError>> {
    let mut errors = Vec::new();
    let mut files = Vec::new();
    if let Err(e) = collect_toml_files(root, &mut files) {
        return Err(vec![e]);
    }
    files.sort();

    let mut contracts: BTreeMap<PathBuf, Arc<Contract>> = BTreeMap::new();
    for path in files.iter().filter(|p| is_contract_file(p)) {
        match parse_file::<Contract>(path).and_then(|c| validate_contract(path, c)) {
            Ok(c) => {
                contracts.insert(path.clone(), Arc::new(c));
            }
            Err(e) => errors.push(e),
        }
    }

    let mut cases = Vec::new();
    for path in files.iter().filter(|p| !is_contract_file(p)) {
        let Some(contract_path) = find_contract(root, path, &files) else {
            errors.push(LoadError::NoContract {
                path: path.clone(),
                root: root.to_owned(),
            });
            continue;
        };
        let file = match parse_file::<CaseFile>(path).and_then(|f| validate_case(path, f)) {
            Ok(f) => f,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        // A broken contract file is reported once above; its cases cannot run.
        let Some(contract) = contracts.get(&contract_path) else {
            continue;
        };
        if let Err(e) = validate_with_contract(path, &file, contract) {
            errors.push(e);
            continue;
        }
        cases.push(Case {
            name: case_name(root, path),
            path: path.clone(),
            file,
            contract: Arc::clone(contract),
            contract_path,
        });
    }

    if cases.is_empty() && errors.is_empty() {
        errors.push(LoadError::NoCases {
            dir: root.to_owned(),
        });
    }
    if errors.is_empty() {
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(cases)
    } else {
        Err(errors)
    }
}

fn is_contract_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == CONTRACT_FILE)
}

fn collect_toml_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let files = crate::files::files_below(dir, true).map_err(|source| LoadError::Io {
        path: dir.to_owned(),
        source,
    })?;
    out.extend(
        files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "toml")),
    );
    Ok(())
}

/// The nearest `contract.toml` in the case's folder or above it, inside `root`.
fn find_contract(root: &Path, case: &Path, files: &[PathBuf]) -> Option<PathBuf> {
    let mut dir = case.parent();
    while let Some(d) = dir {
        let candidate = d.join(CONTRACT_FILE);
        if files.contains(&candidate) {
            return Some(candidate);
        }
        if d == root {
            break;
        }
        dir = d.parent();
    }
    None
}

/// `cases/list_batches/limit_1.toml` → `list_batches::limit_1`.
fn case_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path).with_extension("");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("::")
}

/// Parses a TOML file into `T`, reporting the key path and line of the first problem.
pub fn parse_file<T: DeserializeOwned>(path: &Path) -> Result<T, LoadError> {
    let text = crate::files::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_str(path, &text)
}

fn parse_str<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, LoadError> {
    let parse_error = |key: Option<String>, err: &toml::de::Error| {
        let (line, column) = err
            .span()
            .map(|s| line_column(text, s.start))
            .unwrap_or((1, 1));
        LoadError::Parse {
            path: path.to_owned(),
            key,
            line,
            column,
            message: err.message().trim().to_owned(),
        }
    };
    let de = toml::Deserializer::parse(text).map_err(|e| parse_error(None, &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let key = (key != ".").then_some(key);
        parse_error(key, e.inner())
    })
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn validate_contract(path: &Path, c: Contract) -> Result<Contract, LoadError> {
    let invalid = |message: String| LoadError::Invalid {
        path: path.to_owned(),
        message,
    };
    if !c.path.starts_with('/') {
        return Err(invalid(format!(
            "`path` is `{}` (it must start with `/`, e.g. `/v1/batches`)",
            c.path
        )));
    }
    if c.default_limit == 0 || c.default_limit > c.max_limit || c.min_limit > c.default_limit {
        return Err(invalid(format!(
            "`min_limit` is {}, `default_limit` {} and `max_limit` {} (need min_limit <= default_limit <= max_limit, and default_limit >= 1)",
            c.min_limit, c.default_limit, c.max_limit
        )));
    }
    let e = &c.envelope;
    let pointers = [
        ("envelope.data", e.data.as_str(), false),
        ("envelope.has_more", e.has_more.as_str(), false),
        ("envelope.first_id", e.first_id.as_str(), true),
        ("envelope.last_id", e.last_id.as_str(), true),
    ];
    for (key, pointer, may_be_absent) in pointers {
        if !(pointer.starts_with('/') || may_be_absent && pointer.is_empty()) {
            let absent = if may_be_absent {
                ", or \"\" when the scheme has no such field"
            } else {
                ""
            };
            return Err(invalid(format!(
                "`{key}` is `{pointer}` (give a JSON pointer into the page, e.g. `/data`{absent})"
            )));
        }
    }
    match (c.cursor_source, &c.next_token) {
        (CursorSource::Token, None) => {
            return Err(invalid(
                "`cursor_source` is \"token\" but `next_token` is not set (name the token's JSON pointer, e.g. `next_token = \"/next\"`)".into(),
            ));
        }
        (CursorSource::Token, Some(p)) if !p.starts_with('/') => {
            return Err(invalid(format!(
                "`next_token` is `{p}` (give a JSON pointer into the page, e.g. `/next`)"
            )));
        }
        (CursorSource::LastId, _) if e.last_id().is_none() => {
            return Err(invalid(
                "`cursor_source` is \"last_id\" but `envelope.last_id` is empty (the scheme has no last_id to take the cursor from)".into(),
            ));
        }
        _ => {}
    }
    for (i, f) in c.filters.iter().enumerate() {
        if !f.field.starts_with('/') {
            return Err(invalid(format!(
                "`filters[{i}].field` is `{}` (it must be a JSON pointer into one item, e.g. `/purpose`)",
                f.field
            )));
        }
    }
    for (name, value) in &c.headers {
        if ::http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || ::http::HeaderValue::from_str(value).is_err()
        {
            return Err(invalid(format!(
                "`headers.{name}` is not a valid HTTP header name and value"
            )));
        }
    }
    if let Some((key, pointer)) = c.plausible.pointers().find(|(_, p)| !p.starts_with('/')) {
        return Err(invalid(format!(
            "`plausible.{key}` names `{pointer}` (it must be a JSON pointer into one item, starting with `/`, e.g. `/created_at`)"
        )));
    }
    Ok(c)
}

fn validate_case(path: &Path, f: CaseFile) -> Result<CaseFile, LoadError> {
    let invalid = |message: String| LoadError::Invalid {
        path: path.to_owned(),
        message,
    };
    if f.description.trim().is_empty() {
        return Err(invalid(
            "`description` is empty (say what the case proves)".into(),
        ));
    }
    let kinds = [
        ("[[accept]]", !f.accept.is_empty()),
        ("[walk]", f.walk.is_some()),
        ("[cross_walk]", f.cross_walk.is_some()),
        ("[backward_walk]", f.backward_walk.is_some()),
        ("[order_walk]", f.order_walk.is_some()),
        ("[filter_walk]", f.filter_walk.is_some()),
    ];
    let set: Vec<&str> = kinds.iter().filter(|k| k.1).map(|k| k.0).collect();
    match set.len() {
        0 => {
            return Err(invalid(
                "says neither what to accept nor what to walk (add `[[accept]]` with `status` and `schema` for one request, `[walk]` to follow the cursor, `[cross_walk]` with `limits` to compare walks, or `[backward_walk]`, `[order_walk]`, `[filter_walk]`)".into(),
            ));
        }
        1 => {}
        _ => {
            let (last, rest) = set.split_last().expect("two or more");
            return Err(invalid(format!(
                "has both {} and {last} (a case does one thing: split it into one file each)",
                rest.join(", ")
            )));
        }
    }
    let budgets = [
        ("walk.max_pages", f.walk.as_ref().and_then(|w| w.max_pages)),
        (
            "cross_walk.max_pages",
            f.cross_walk.as_ref().and_then(|w| w.max_pages),
        ),
        (
            "backward_walk.max_pages",
            f.backward_walk.as_ref().and_then(|w| w.max_pages),
        ),
        (
            "order_walk.max_pages",
            f.order_walk.as_ref().and_then(|w| w.max_pages),
        ),
        (
            "filter_walk.max_pages",
            f.filter_walk.as_ref().and_then(|w| w.max_pages),
        ),
    ];
    if let Some((key, _)) = budgets.iter().find(|(_, v)| *v == Some(0)) {
        return Err(invalid(format!(
            "`{key}` is 0 (a walk needs at least one page)"
        )));
    }
    let caps = [
        (
            "walk.stop_after_items",
            f.walk.as_ref().and_then(|w| w.stop_after_items),
        ),
        (
            "cross_walk.stop_after_items",
            f.cross_walk.as_ref().and_then(|w| w.stop_after_items),
        ),
        (
            "order_walk.stop_after_items",
            f.order_walk.as_ref().and_then(|w| w.stop_after_items),
        ),
        (
            "filter_walk.stop_after_items",
            f.filter_walk.as_ref().and_then(|w| w.stop_after_items),
        ),
    ];
    if f.backward_walk
        .as_ref()
        .is_some_and(|w| w.stop_after_items.is_some())
    {
        return Err(invalid(
            "`backward_walk.stop_after_items` is set, but a backward walk starts from the end of the listing (leave it out)".into(),
        ));
    }
    if let Some((key, _)) = caps.iter().find(|(_, v)| *v == Some(0)) {
        return Err(invalid(format!(
            "`{key}` is 0 (a walk needs at least one item; leave it out to walk to the end)"
        )));
    }
    if let Some(x) = &f.cross_walk {
        let mut sorted = x.limits.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() < 2 || sorted.len() != x.limits.len() {
            return Err(invalid(
                "`cross_walk.limits` needs at least two different limits, each once (e.g. `[1, 7, \"default\", \"max\"]`)".into(),
            ));
        }
    }
    for (i, o) in f.accept.iter().enumerate() {
        if !(100..=599).contains(&o.status) {
            return Err(invalid(format!(
                "`accept[{i}].status` is {} (an HTTP status is 100..=599)",
                o.status
            )));
        }
        if o.schema == BodyKind::Error && o.invariants.is_some() {
            return Err(invalid(format!(
                "`accept[{i}].invariants` is set on an error outcome (page invariants apply only to `schema = \"list\"`)"
            )));
        }
    }
    let l = &f.limits;
    if l.retry_attempts == Some(0) {
        return Err(invalid(
            "`limits.retry_attempts` is 0 (it counts the first attempt: use 1 for no retries)"
                .into(),
        ));
    }
    for (key, value) in [
        ("retry_budget_secs", l.retry_budget_secs),
        ("request_timeout_secs", l.request_timeout_secs),
        ("case_timeout_secs", l.case_timeout_secs),
    ] {
        if let Some(v) = value.filter(|v| !(v.is_finite() && *v > 0.0 && *v < 1e9)) {
            return Err(invalid(format!(
                "`limits.{key}` is {v} (give a positive number of seconds)"
            )));
        }
    }
    for (name, value) in &f.request.headers {
        if ::http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || ::http::HeaderValue::from_str(value).is_err()
        {
            return Err(invalid(format!(
                "`request.headers.{name}` is not a valid HTTP header name and value"
            )));
        }
    }
    Ok(f)
}

/// `a, b`, or `none`, for messages listing what a contract has.
fn names_or_none<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// The checks that need the suite's contract: walk limits within its range, and walks that
/// leave the limit and cursor parameters to the runner.
fn validate_with_contract(path: &Path, f: &CaseFile, contract: &Contract) -> Result<(), LoadError> {
    let invalid = |message: String| LoadError::Invalid {
        path: path.to_owned(),
        message,
    };
    for name in &f.request.omit_headers {
        if !contract
            .headers
            .keys()
            .any(|h| h.eq_ignore_ascii_case(name))
        {
            return Err(invalid(format!(
                "`request.omit_headers` names `{name}`, which the contract's `[headers]` does not require (it has: {})",
                names_or_none(contract.headers.keys())
            )));
        }
    }
    let (key, limits): (&str, &[WalkLimit]) = match f.kind() {
        CaseKind::Page(_) => return Ok(()),
        CaseKind::Walk(w) => ("walk.limit", std::slice::from_ref(&w.limit)),
        CaseKind::CrossWalk(x) => ("cross_walk.limits", &x.limits),
        CaseKind::BackwardWalk(w) => {
            if contract.backward.is_none() {
                return Err(invalid(
                    "has `[backward_walk]`, but the contract has no `[backward]` parameter (add `[backward] param = \"before\"` to contract.toml if the endpoint pages backward)".into(),
                ));
            }
            if contract.cursor_source == CursorSource::Token {
                return Err(invalid(
                    "has `[backward_walk]`, but the contract's cursors are opaque tokens (`cursor_source = \"token\"`), which cannot be walked back from".into(),
                ));
            }
            ("backward_walk.limit", std::slice::from_ref(&w.limit))
        }
        CaseKind::OrderWalk(w) => {
            if contract.order_param.is_none() {
                return Err(invalid(
                    "has `[order_walk]`, but the contract has no `[order_param]` (add one if the endpoint takes `order`)".into(),
                ));
            }
            if let Some(p) = contract
                .order_param
                .as_ref()
                .filter(|p| f.request.query.contains_key(&p.name))
            {
                return Err(invalid(format!(
                    "`request.query.{}` is set, but an order walk sends both `{}` and `{}` itself",
                    p.name, p.asc, p.desc
                )));
            }
            ("order_walk.limit", std::slice::from_ref(&w.limit))
        }
        CaseKind::FilterWalk(w) => {
            if !contract.filters.iter().any(|c| c.param == w.param) {
                return Err(invalid(format!(
                    "`filter_walk.param` is `{}`, which is not among the contract's `[[filters]]` (it has: {})",
                    w.param,
                    names_or_none(contract.filters.iter().map(|c| &c.param))
                )));
            }
            if f.request.query.contains_key(&w.param) {
                return Err(invalid(format!(
                    "`request.query.{}` is set, but a filter walk sends it itself (set `filter_walk.value`)",
                    w.param
                )));
            }
            ("filter_walk.limit", std::slice::from_ref(&w.limit))
        }
    };
    for limit in limits {
        if let WalkLimit::N(n) = limit
            && *n > contract.max_limit
        {
            return Err(invalid(format!(
                "`{key}` has {n}, above the contract's `max_limit` {} (a conforming server refuses it; use \"max\")",
                contract.max_limit
            )));
        }
    }
    let mut sent: Vec<Option<u64>> = limits.iter().map(|l| l.param(contract)).collect();
    sent.sort_unstable();
    sent.dedup();
    if sent.len() != limits.len() {
        return Err(invalid(format!(
            "`{key}` names one limit twice: with `max_limit` {} the walks would send the same requests (drop one)",
            contract.max_limit
        )));
    }
    let mut hints = vec![
        (&contract.limit_param, format!("set `{key}` instead")),
        (
            &contract.cursor_param,
            "the cursor comes from each page's last id".to_owned(),
        ),
    ];
    if let Some(b) = &contract.backward {
        hints.push((
            &b.param,
            "a backward walk sends it from each page's first id".to_owned(),
        ));
    }
    for (param, hint) in hints {
        if f.request.query.contains_key(param) {
            return Err(invalid(format!(
                "`request.query.{param}` is set, but a walk sends `{}` and `{}` itself ({hint})",
                contract.limit_param, contract.cursor_param
            )));
        }
    }
    if f.request.auth != AuthMode::Valid {
        return Err(invalid(
            "`request.auth` is not \"valid\", but a walk needs pages (use a page case with `[[accept]]` for auth errors)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CaseFile, LoadError> {
        parse_str(Path::new("cases/s/c.toml"), text)
    }

    #[test]
    fn unknown_key_names_file_key_and_line() {
        let err = parse(
            "description = \"d\"\n[request]\nquery = { limit = 1 }\nauht = \"none\"\n[[accept]]\nstatus = 200\nschema = \"list\"\n",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("cases/s/c.toml:4:1: unknown field `auht`"),
            "{msg}"
        );
        assert!(
            msg.contains("at key `request.auht`") || msg.contains("at key `request`"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_value_type_names_the_key() {
        let err = parse("description = \"d\"\n[[accept]]\nstatus = \"200\"\nschema = \"list\"\n")
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("cases/s/c.toml:3:"), "{msg}");
        assert!(msg.contains("accept[0].status"), "{msg}");
    }

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

    #[test]
    fn variables_expand_and_missing_ones_are_named() {
        let var = |name: &str| (name == "ORG").then(|| "org-1".to_owned());
        assert_eq!(
            expand("a ${ORG} b ${ORG}", &var),
            Ok("a org-1 b org-1".into())
        );
        assert_eq!(
            expand("no vars, $ and ${ unclosed", &var),
            Ok("no vars, $ and ${ unclosed".into())
        );
        assert_eq!(expand("${NOPE}", &var), Err("NOPE".into()));
    }

    const DESC: &str = "description = \"d\"\n";

    fn walk_file(walk: &str) -> CaseFile {
        parse(&format!("{DESC}[walk]\n{walk}")).unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    fn invalid(text: &str) -> String {
        let file = parse(text).unwrap();
        validate_case(Path::new("cases/s/c.toml"), file)
            .unwrap_err()
            .to_string()
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

    #[test]
    fn a_case_without_a_kind_is_rejected() {
        let msg = invalid(DESC);
        assert!(
            msg.starts_with("cases/s/c.toml: says neither what to accept nor what to walk"),
            "{msg}"
        );
        assert!(msg.contains("`[cross_walk]`"), "{msg}");
    }

    #[test]
    fn a_case_with_two_kinds_names_both() {
        let msg = invalid(&format!(
            "{DESC}[walk]\nlimit = 7\n[[accept]]\nstatus = 200\nschema = \"list\"\n"
        ));
        assert!(
            msg.starts_with("cases/s/c.toml: has both [[accept]] and [walk] ("),
            "{msg}"
        );
    }

    #[test]
    fn zero_max_pages_is_rejected() {
        let msg = invalid(&format!("{DESC}[walk]\nmax_pages = 0\n"));
        assert_eq!(
            msg,
            "cases/s/c.toml: `walk.max_pages` is 0 (a walk needs at least one page)"
        );
    }

    #[test]
    fn cross_walk_needs_two_distinct_limits_each_once() {
        for limits in ["[7]", "[1, 7, 1]", "[\"max\", \"max\"]"] {
            let msg = invalid(&format!("{DESC}[cross_walk]\nlimits = {limits}\n"));
            assert!(
                msg.starts_with(
                    "cases/s/c.toml: `cross_walk.limits` needs at least two different limits, each once"
                ),
                "{limits}: {msg}"
            );
        }
    }

    /// A copy of `cases/list_batches/contract.toml`.
    const CONTRACT: &str = r#"
description = "OpenAI-compatible List Batches: GET /v1/batches?limit=N&after=CURSOR"
path = "/v1/batches"
auth = "x-api-key"
default_limit = 20
max_limit = 100
limit_param = "limit"
cursor_param = "after"
id_field = "id"
order_key = "created_at"
order = "desc"

[schemas]
list = "batch-list.json"
error = "error.json"
"#;

    /// `load_cases` on a suite of `CONTRACT` and one case file `c.toml`: the single error
    /// it reports, and the case file's path.
    fn load_error(case: &str) -> (String, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let suite = tmp.path().join("suite");
        std::fs::create_dir(&suite).unwrap();
        std::fs::write(suite.join(CONTRACT_FILE), CONTRACT).unwrap();
        let path = suite.join("c.toml");
        std::fs::write(&path, case).unwrap();
        let errors = load_cases(tmp.path()).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        (errors[0].to_string(), path)
    }

    #[test]
    fn walk_limit_above_max_limit_is_rejected() {
        for (table, key) in [
            ("[walk]\nlimit = 500", "walk.limit"),
            ("[cross_walk]\nlimits = [1, 500]", "cross_walk.limits"),
        ] {
            let (msg, path) = load_error(&format!("{DESC}{table}\n"));
            assert_eq!(
                msg,
                format!(
                    "{}: `{key}` has 500, above the contract's `max_limit` 100 (a conforming server refuses it; use \"max\")",
                    path.display()
                )
            );
        }
    }

    #[test]
    fn a_limit_written_twice_two_ways_is_rejected() {
        let (msg, path) = load_error(&format!("{DESC}[cross_walk]\nlimits = [100, \"max\"]\n"));
        assert_eq!(
            msg,
            format!(
                "{}: `cross_walk.limits` names one limit twice: with `max_limit` 100 the walks would send the same requests (drop one)",
                path.display()
            )
        );
    }

    #[test]
    fn walk_with_limit_in_query_is_rejected() {
        let (msg, path) = load_error(&format!(
            "{DESC}[request]\nquery = {{ limit = 5 }}\n[walk]\nlimit = 7\n"
        ));
        assert_eq!(
            msg,
            format!(
                "{}: `request.query.limit` is set, but a walk sends `limit` and `after` itself (set `walk.limit` instead)",
                path.display()
            )
        );
    }

    #[test]
    fn walk_without_valid_auth_is_rejected() {
        let (msg, path) = load_error(&format!("{DESC}[request]\nauth = \"none\"\n[walk]\n"));
        assert!(
            msg.starts_with(&format!(
                "{}: `request.auth` is not \"valid\", but a walk needs pages",
                path.display()
            )),
            "{msg}"
        );
    }

    #[test]
    fn a_plausibility_field_that_is_not_a_pointer_is_rejected() {
        let tmp = tempfile::tempdir().unwrap();
        let suite = tmp.path().join("suite");
        std::fs::create_dir(&suite).unwrap();
        let contract = suite.join(CONTRACT_FILE);
        std::fs::write(
            &contract,
            format!("{CONTRACT}\n[[plausible.sums]]\ntotal = \"/t\"\nparts = [\"/a\", \"b\"]\n"),
        )
        .unwrap();
        std::fs::write(suite.join("c.toml"), format!("{DESC}[walk]\n")).unwrap();
        let errors = load_cases(tmp.path()).unwrap_err();
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [format!(
                "{}: `plausible.sums.parts` names `b` (it must be a JSON pointer into one item, starting with `/`, e.g. `/created_at`)",
                contract.display()
            )]
        );
    }

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }
}
