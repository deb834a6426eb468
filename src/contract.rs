//! The endpoint's parameters: everything about the API that real providers disagree on,
//! read from a suite's `contract.toml`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

/// How the API key travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
pub enum AuthStyle {
    /// `x-api-key: <key>` (the provider's own page).
    #[default]
    #[serde(rename = "x-api-key")]
    XApiKey,
    /// `Authorization: Bearer <key>` (OpenAI and most compatible servers).
    #[serde(rename = "bearer")]
    Bearer,
}

impl FromStr for AuthStyle {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::choice::parse(s, "auth style")
    }
}

impl fmt::Display for AuthStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthStyle::XApiKey => "x-api-key",
            AuthStyle::Bearer => "bearer",
        })
    }
}

/// Which way the order key runs through a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Non-increasing: newest first.
    Desc,
    /// Non-decreasing: oldest first.
    Asc,
}

impl Direction {
    /// Whether `next` may follow `prev` in this direction (equal keys are always allowed).
    pub fn allows(self, prev: i64, next: i64) -> bool {
        match self {
            Direction::Desc => next <= prev,
            Direction::Asc => next >= prev,
        }
    }

    /// The other direction.
    pub fn reversed(self) -> Self {
        match self {
            Direction::Desc => Direction::Asc,
            Direction::Asc => Direction::Desc,
        }
    }

    /// The name used in case files and messages.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Desc => "desc",
            Direction::Asc => "asc",
        }
    }

    /// The comparison `next` must satisfy against `prev`, for messages.
    pub fn bound_symbol(self) -> &'static str {
        match self {
            Direction::Desc => "<=",
            Direction::Asc => ">=",
        }
    }
}

/// What `first_id`/`last_id` hold on an empty page (`empty_page_ids` in `contract.toml`).
/// Where the keys are missing is the schema's to judge, except under `absent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum EmptyPageIds {
    /// `null` (OpenAI, Anthropic).
    #[default]
    #[serde(rename = "null")]
    Null,
    /// `""`, the empty string (llama-stack).
    #[serde(rename = "")]
    EmptyString,
    /// No `first_id`/`last_id` at all on an empty page.
    #[serde(rename = "absent")]
    Absent,
}

impl EmptyPageIds {
    /// The value, as `contract.toml` writes it: `"null"`, `""`, `"absent"`.
    pub fn name(self) -> &'static str {
        match self {
            EmptyPageIds::Null => "\"null\"",
            EmptyPageIds::EmptyString => "\"\"",
            EmptyPageIds::Absent => "\"absent\"",
        }
    }

    /// The JSON value an empty page carries, or `None` for no key.
    pub fn value(self) -> Option<Value> {
        match self {
            EmptyPageIds::Null => Some(Value::Null),
            EmptyPageIds::EmptyString => Some(Value::String(String::new())),
            EmptyPageIds::Absent => None,
        }
    }
}

/// The schemas of a contract, as file names inside the schemas folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaFiles {
    /// The 200 response: the list envelope.
    pub list: String,
    /// A 4xx response body.
    pub error: String,
}

/// A suite's `contract.toml`. Every key past the first few has a default that is the List
/// Batches behaviour, so a contract names only where its endpoint differs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    pub description: String,
    /// The endpoint path, joined onto the base URL (which may carry a prefix).
    pub path: String,
    /// The auth style when `CONTRACT_AUTH` does not say.
    #[serde(default)]
    pub auth: AuthStyle,
    /// Headers every request must carry (`anthropic-version = "2023-06-01"`); a case can leave
    /// one out with `request.omit_headers` to prove the server refuses the request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Items on a page when the request names no limit.
    pub default_limit: u64,
    /// The largest limit the API accepts.
    pub max_limit: u64,
    /// The smallest limit the API accepts (0 on the newer OpenAI lists).
    #[serde(default = "default_min_limit")]
    pub min_limit: u64,
    /// The query parameter that carries the limit.
    #[serde(default = "default_limit_param")]
    pub limit_param: String,
    /// The query parameter that carries the forward cursor (`after`, `after_id`).
    pub cursor_param: String,
    /// Where the next forward cursor comes from.
    #[serde(default)]
    pub cursor_source: CursorSource,
    /// What `first_id`/`last_id` hold on an empty page: `"null"` (the default), `""` or
    /// `"absent"`.
    #[serde(default)]
    pub empty_page_ids: EmptyPageIds,
    /// With `cursor_source = "token"`: the JSON pointer of the opaque next-page token in the
    /// envelope (`/next`).
    #[serde(default)]
    pub next_token: Option<String>,
    /// Backward paging, when the endpoint has it: the parameter (`before`, `before_id`) and
    /// what a backward page holds.
    #[serde(default)]
    pub backward: Option<Backward>,
    /// The item field that identifies an item (and serves as the cursor in the id schemes).
    pub id_field: String,
    /// The item field the listing is ordered by.
    pub order_key: String,
    /// What the order key holds: Unix seconds (an integer), an RFC 3339 date-time string, or
    /// a plain integer (a version number) that is no time at all.
    #[serde(default)]
    pub order_key_kind: KeyKind,
    /// The listing's direction when no `order` parameter is sent.
    pub order: Direction,
    /// The `order` query parameter, when the endpoint takes one.
    #[serde(default)]
    pub order_param: Option<OrderParam>,
    /// Where the envelope keeps its parts, as JSON pointers; an empty pointer says the scheme
    /// has no such field, which switches off the invariants about it.
    #[serde(default)]
    pub envelope: Envelope,
    /// Query parameters that restrict the listing to items whose field matches.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// How far the server's clock, and the lag before a new item shows in its listing, may
    /// trail ours. Items whose order key (a creation time) is at most this much older than
    /// the start of a run count as created during the run: one walk seeing them and another
    /// not is live traffic, not a gap.
    #[serde(default = "default_clock_skew")]
    pub clock_skew_secs: u64,
    pub schemas: SchemaFiles,
    /// What item values mean beyond their JSON type (invariant `plausible`); empty: no such
    /// checks.
    #[serde(default)]
    pub plausible: Plausibility,
    /// What the reference mock serves for this suite.
    #[serde(default)]
    pub mock: MockData,
    /// Response headers the server is known to send (a gateway's own, such as LiteLLM's
    /// `x-litellm-version`), by lowercase name: never reported as new headers.
    #[serde(default)]
    pub known_headers: Vec<String>,
    /// Prefixes of such headers (`x-litellm-`).
    #[serde(default)]
    pub known_header_prefixes: Vec<String>,
    /// What error bodies mean beyond their schema (invariant `plausible_error`); every rule
    /// is on unless switched off.
    #[serde(default)]
    pub plausible_errors: ErrorPlausibility,
    /// A nested list's path parameters (`path = "/v1/stores/{store_id}/files"`), in the order
    /// they appear in the path: each found by walking its parent list's first page, unless
    /// `--path-param NAME=VALUE` gives it.
    #[serde(default)]
    pub parents: Vec<Parent>,
}

/// `[[parents]]`: a path parameter of a nested list and where its value is found.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parent {
    /// The parameter's name in `path` (`store_id` for `{store_id}`).
    pub param: String,
    /// The parent list's path (earlier parameters still as `{name}`); unset: the value must be
    /// given.
    #[serde(default)]
    pub list: Option<String>,
    /// The parent page's item array, as a JSON pointer.
    #[serde(default = "default_data")]
    pub data: String,
    /// The parent item's id field.
    #[serde(default = "default_id_field")]
    pub id_field: String,
}

fn default_data() -> String {
    "/data".to_owned()
}

fn default_id_field() -> String {
    "id".to_owned()
}

impl Contract {
    /// The `{name}` parameters of `path` that are still to be filled in.
    pub fn path_params(&self) -> Vec<String> {
        template_params(&self.path)
    }
}

/// The `{name}` parameters of a path template, in order.
pub fn template_params(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push(rest[start + 1..start + len].to_owned());
        rest = &rest[start + len + 1..];
    }
    out
}

/// `path` with `{name}` replaced by `value` (percent-encoded as one path segment).
/// Why `value` cannot fill a path parameter, if it cannot: empty, `.` or `..` (a URL
/// resolves those, also percent-encoded, so the request would leave the contract's path), or
/// holding a control character.
pub fn param_value_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        Some("it is empty")
    } else if value == "." || value == ".." {
        Some("`.` and `..` would move the request out of the contract's path")
    } else if value.chars().any(char::is_control) {
        Some("it holds a control character")
    } else {
        None
    }
}

pub fn fill_param(path: &str, name: &str, value: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    path.replace(&format!("{{{name}}}"), &encoded)
}

/// Where a walk's next forward cursor comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CursorSource {
    /// `data[-1].<id_field>`: openai-python's `CursorPage` (and openai-node's).
    #[default]
    LastItem,
    /// The envelope's `last_id`: openai-python's `ConversationCursorPage`, Anthropic's `Page`.
    LastId,
    /// An opaque token at the envelope's `next_token` pointer (`SyncNextCursorPage`).
    Token,
}

impl CursorSource {
    /// How the source is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            CursorSource::LastItem => "data[-1].id (cursor_source = \"last_item\")",
            CursorSource::LastId => "last_id (cursor_source = \"last_id\")",
            CursorSource::Token => "the next-page token (cursor_source = \"token\")",
        }
    }

    /// What a walk follows and who pages the other way, for a page whose `last_id` and last
    /// item's id differ.
    pub fn consequence(self) -> &'static str {
        match self {
            CursorSource::LastItem => {
                "the walk follows data[-1].id, as openai-python's CursorPage does; a client that follows last_id (ConversationCursorPage, Anthropic's SDKs) pages differently"
            }
            CursorSource::LastId => {
                "the walk follows last_id, as ConversationCursorPage and Anthropic's SDKs do; a client that follows data[-1].id (CursorPage) pages differently"
            }
            CursorSource::Token => "the walk follows the next-page token",
        }
    }
}

/// `[backward]`: paging towards the head of the listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backward {
    /// The query parameter (`before`, `before_id`); its value is a page's first id.
    pub param: String,
    /// The order of a backward page's items: the list order (default, and what the SDKs'
    /// backward iteration needs) or reversed.
    #[serde(default)]
    pub page_order: PageOrder,
}

/// The order of a backward page's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageOrder {
    /// The listing's own order: the page is the `limit` items just before the cursor.
    #[default]
    List,
    /// Nearest the cursor first.
    Reversed,
}

/// What an order key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// An integer of Unix seconds.
    #[default]
    UnixSeconds,
    /// An RFC 3339 date-time string, compared as an instant.
    Rfc3339,
    /// An integer that is no time (a version number): no live-traffic allowance.
    Integer,
}

/// `[order_param]`: the query parameter that picks the direction, and its two values.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderParam {
    #[serde(default = "default_order_param")]
    pub name: String,
    /// The value that asks for ascending order (`asc`, `ascending`).
    #[serde(default = "default_asc")]
    pub asc: String,
    /// The value that asks for descending order (`desc`, `descending`).
    #[serde(default = "default_desc")]
    pub desc: String,
}

/// `[envelope]`: the parts of a list page, as JSON pointers into the body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Envelope {
    pub data: String,
    pub has_more: String,
    /// `""`: the scheme has no `first_id`.
    pub first_id: String,
    /// `""`: the scheme has no `last_id`.
    pub last_id: String,
}

impl Default for Envelope {
    fn default() -> Self {
        Envelope {
            data: "/data".into(),
            has_more: "/has_more".into(),
            first_id: "/first_id".into(),
            last_id: "/last_id".into(),
        }
    }
}

/// A pointer of [`Envelope`], or `None` when the scheme lacks the field.
fn present(pointer: &str) -> Option<&str> {
    (!pointer.is_empty()).then_some(pointer)
}

impl Envelope {
    pub fn first_id(&self) -> Option<&str> {
        present(&self.first_id)
    }

    pub fn last_id(&self) -> Option<&str> {
        present(&self.last_id)
    }

    /// The page's items, when `data` is an array.
    pub fn items<'v>(&self, body: &'v Value) -> Option<&'v Vec<Value>> {
        pointer(body, &self.data).and_then(Value::as_array)
    }

    /// The page's `has_more`, when it is a boolean.
    pub fn has_more(&self, body: &Value) -> Option<bool> {
        pointer(body, &self.has_more).and_then(Value::as_bool)
    }
}

/// `body.pointer(p)`, with the common one-key pointer (`/data`) looked up directly.
pub fn pointer<'v>(body: &'v Value, p: &str) -> Option<&'v Value> {
    match p.strip_prefix('/') {
        Some(key) if !key.contains(['/', '~']) => body.get(key),
        _ => body.pointer(p),
    }
}

/// `[[filters]]`: a query parameter that restricts the listing to items whose field matches.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// The query parameter (`purpose`).
    pub param: String,
    /// The JSON pointer into one item that must equal the value (`/purpose`).
    pub field: String,
    /// Values the reference mock gives its items, in turn (the first ones are what cases
    /// usually filter on).
    #[serde(default)]
    pub values: Vec<String>,
}

/// `[mock]`: what the reference mock serves for the suite.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockData {
    /// The envelope's `object` value (`"list"`); `""`: the envelope has no `object` field
    /// (Anthropic's lists).
    #[serde(default = "default_envelope_object")]
    pub envelope_object: String,
    /// A JSON file beside `contract.toml` holding an array of example items; the mock
    /// multiplies them with fresh ids, order keys (with ties) and filter values. Unset: the
    /// List Batches generator.
    #[serde(default)]
    pub examples: Option<String>,
    /// The prefix of the ids the mock makes (`file-`, `msgbatch_`).
    #[serde(default)]
    pub id_prefix: Option<String>,
    /// The error envelope the mock answers with.
    #[serde(default)]
    pub error_style: ErrorStyle,
}

impl Default for MockData {
    fn default() -> Self {
        MockData {
            envelope_object: default_envelope_object(),
            examples: None,
            id_prefix: None,
            error_style: ErrorStyle::default(),
        }
    }
}

fn default_envelope_object() -> String {
    "list".to_owned()
}

/// An error envelope's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorStyle {
    /// `{"error": {"message", "type", "param", "code"}}`.
    #[default]
    Openai,
    /// `{"type": "error", "error": {"type", "message"}, "request_id"}`.
    Anthropic,
}

impl Contract {
    /// The order key of an item as a number that sorts like it: Unix seconds, the instant of
    /// an RFC 3339 date-time in microseconds, or the integer itself. `None` when it is not of
    /// the contract's kind (the schema reports that).
    pub fn order_value(&self, value: &Value) -> Option<i64> {
        match self.order_key_kind {
            KeyKind::UnixSeconds | KeyKind::Integer => value.as_i64(),
            KeyKind::Rfc3339 => chrono::DateTime::parse_from_rfc3339(value.as_str()?)
                .ok()
                .map(|t| t.timestamp_micros()),
        }
    }

    /// An order value as messages show it: the number, or the RFC 3339 instant.
    pub fn show_key(&self, key: i64) -> String {
        match self.order_key_kind {
            KeyKind::UnixSeconds | KeyKind::Integer => key.to_string(),
            KeyKind::Rfc3339 => chrono::DateTime::from_timestamp_micros(key).map_or_else(
                || key.to_string(),
                |t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ),
        }
    }

    /// The order value of a time given in Unix seconds, for telling live traffic apart;
    /// `None` when the key is no time.
    pub fn order_value_at(&self, unix_seconds: i64) -> Option<i64> {
        match self.order_key_kind {
            KeyKind::UnixSeconds => Some(unix_seconds),
            KeyKind::Rfc3339 => Some(unix_seconds.saturating_mul(1_000_000)),
            KeyKind::Integer => None,
        }
    }

    /// The direction a request asks for with `query` (`order=asc`), else the default.
    pub fn direction_of<'q>(
        &self,
        mut query: impl Iterator<Item = (&'q str, &'q str)>,
    ) -> Direction {
        let Some(param) = &self.order_param else {
            return self.order;
        };
        match query.find(|(k, _)| *k == param.name) {
            Some((_, v)) if v == param.asc => Direction::Asc,
            Some((_, v)) if v == param.desc => Direction::Desc,
            _ => self.order,
        }
    }

    /// The filters a request applies with `query`: each as the item pointer and the value.
    pub fn filters_of<'q>(&self, query: &[(&'q str, &'q str)]) -> Vec<(String, String)> {
        self.filters
            .iter()
            .filter_map(|f| {
                let (_, v) = query.iter().find(|(k, _)| *k == f.param)?;
                Some((f.field.clone(), (*v).to_owned()))
            })
            .collect()
    }
}

/// `[plausible_errors]`: error bodies that pass the error schema and still say nothing true.
/// Each switch turns one rule of [`crate::check::errors`] on (the default) or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ErrorPlausibility {
    /// `error.code` or `error.param` is a stringified null: `"None"`, `"null"`, `"nil"`,
    /// `"undefined"`.
    pub stringified_null: bool,
    /// `error.code` is only the HTTP status (`"400"` on a 400).
    pub code_is_status: bool,
    /// `error.type` names a server error (`internal_server_error`, `api_error`,
    /// `server_error`) on a 4xx.
    pub server_type_on_4xx: bool,
}

impl Default for ErrorPlausibility {
    fn default() -> Self {
        ErrorPlausibility {
            stringified_null: true,
            code_is_status: true,
            server_type_on_4xx: true,
        }
    }
}

/// `[plausible]`: values that keep their JSON type but can lose their meaning. Every field is
/// named by a JSON pointer into one item (`/request_counts/total`); an absent or `null` value
/// is never judged here (the schema says whether it may be absent or null).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plausibility {
    /// Fields holding Unix seconds: a value outside 2000-01-01..2100-01-01 is in another unit
    /// (milliseconds, microseconds) or a placeholder such as `0`.
    #[serde(default)]
    pub unix_seconds: Vec<String>,
    /// Times that cannot come before another time of the same item.
    #[serde(default)]
    pub not_before: Vec<NotBefore>,
    /// Counts whose parts cannot add up to more than their total.
    #[serde(default)]
    pub sums: Vec<Sum>,
    /// The rules indexed by field, built on first use.
    #[serde(skip)]
    pub(crate) plan: PlanCache,
}

/// A cache of [`PlausiblePlan`] that plays no part in comparing contracts.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanCache(OnceLock<PlausiblePlan>);

impl PartialEq for PlanCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for PlanCache {}

/// [`Plausibility`]'s rules with each field named once: the checks run on every item of every
/// page, and the rules share most of their fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlausiblePlan {
    /// Each field the rules name, once.
    pub fields: Vec<String>,
    /// `unix_seconds`, as indices into `fields`.
    pub seconds: Vec<usize>,
    /// `not_before`: the bound and the fields that cannot precede it.
    pub not_before: Vec<(usize, Vec<usize>)>,
    /// `sums`: the total and its parts.
    pub sums: Vec<(usize, Vec<usize>)>,
    /// The fields by their first key, sorted by it, each with the keys below it (unescaped)
    /// and its index in `fields`: an item is read in one pass over its keys.
    pub tops: Vec<TopField>,
}

/// A first key of [`PlausiblePlan`]'s fields, and each field below it: its keys under the
/// first one, and its index in `fields`.
pub type TopField = (String, Vec<(Vec<String>, usize)>);

/// `[[plausible.not_before]]`: none of `fields` is earlier than `bound`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotBefore {
    pub bound: String,
    pub fields: Vec<String>,
}

/// `[[plausible.sums]]`: the `parts` add up to at most `total`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sum {
    pub total: String,
    pub parts: Vec<String>,
}

impl Plausibility {
    /// The rules indexed by field.
    pub fn plan(&self) -> &PlausiblePlan {
        self.plan.0.get_or_init(|| {
            let mut plan = PlausiblePlan::default();
            let mut slot = |pointer: &str| match plan.fields.iter().position(|f| f == pointer) {
                Some(i) => i,
                None => {
                    plan.fields.push(pointer.to_owned());
                    plan.fields.len() - 1
                }
            };
            let seconds = self.unix_seconds.iter().map(|p| slot(p)).collect();
            let not_before = self
                .not_before
                .iter()
                .map(|r| (slot(&r.bound), r.fields.iter().map(|p| slot(p)).collect()))
                .collect();
            let sums = self
                .sums
                .iter()
                .map(|s| (slot(&s.total), s.parts.iter().map(|p| slot(p)).collect()))
                .collect();
            let mut tops: Vec<TopField> = Vec::new();
            for (index, pointer) in plan.fields.iter().enumerate() {
                let mut keys = pointer
                    .split('/')
                    .skip(1)
                    .map(|t| t.replace("~1", "/").replace("~0", "~"));
                let top = keys.next().unwrap_or_default();
                let below = (keys.collect(), index);
                match tops.iter_mut().find(|(t, _)| *t == top) {
                    Some((_, fields)) => fields.push(below),
                    None => tops.push((top, vec![below])),
                }
            }
            tops.sort_by(|a, b| a.0.cmp(&b.0));
            PlausiblePlan {
                seconds,
                not_before,
                sums,
                tops,
                ..plan
            }
        })
    }

    /// Every pointer the table names, with the key it is written under, for validation.
    pub fn pointers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let seconds = self
            .unix_seconds
            .iter()
            .map(|p| ("unix_seconds", p.as_str()));
        let order = self.not_before.iter().flat_map(|n| {
            std::iter::once(("not_before.bound", n.bound.as_str()))
                .chain(n.fields.iter().map(|p| ("not_before.fields", p.as_str())))
        });
        let sums = self.sums.iter().flat_map(|s| {
            std::iter::once(("sums.total", s.total.as_str()))
                .chain(s.parts.iter().map(|p| ("sums.parts", p.as_str())))
        });
        seconds.chain(order).chain(sums)
    }
}

fn default_clock_skew() -> u64 {
    120
}

fn default_limit_param() -> String {
    "limit".to_owned()
}

fn default_min_limit() -> u64 {
    1
}

fn default_order_param() -> String {
    "order".to_owned()
}

fn default_asc() -> String {
    "asc".to_owned()
}

fn default_desc() -> String {
    "desc".to_owned()
}

/// The shipped List Batches contract, for unit tests of the checks.
#[cfg(test)]
pub(crate) fn list_batches() -> Contract {
    Contract {
        description: "t".into(),
        path: "/v1/batches".into(),
        auth: AuthStyle::XApiKey,
        default_limit: 20,
        max_limit: 100,
        limit_param: "limit".into(),
        min_limit: 1,
        headers: BTreeMap::new(),
        cursor_param: "after".into(),
        cursor_source: CursorSource::LastItem,
        empty_page_ids: EmptyPageIds::Null,
        next_token: None,
        backward: None,
        id_field: "id".into(),
        order_key: "created_at".into(),
        order_key_kind: KeyKind::UnixSeconds,
        order: Direction::Desc,
        order_param: None,
        envelope: Envelope::default(),
        filters: Vec::new(),
        mock: MockData::default(),
        clock_skew_secs: default_clock_skew(),
        schemas: SchemaFiles {
            list: "batch-list.json".into(),
            error: "error.json".into(),
        },
        plausible: Plausibility::default(),
        known_headers: Vec::new(),
        known_header_prefixes: Vec::new(),
        plausible_errors: ErrorPlausibility::default(),
        parents: Vec::new(),
    }
}
