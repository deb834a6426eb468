//! The endpoint's parameters: everything about the API that real providers disagree on,
//! read from a suite's `contract.toml`.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::Deserialize;

/// How the API key travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
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
        match s.trim().to_ascii_lowercase().as_str() {
            "x-api-key" => Ok(AuthStyle::XApiKey),
            "bearer" => Ok(AuthStyle::Bearer),
            other => Err(format!(
                "unknown auth style `{other}` (expected `x-api-key` or `bearer`)"
            )),
        }
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

/// The schemas of a contract, as file names inside the schemas folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaFiles {
    /// The 200 response: the list envelope.
    pub list: String,
    /// A 4xx response body.
    pub error: String,
}

/// A suite's `contract.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    pub description: String,
    /// The endpoint path, joined onto the base URL (which may carry a prefix).
    pub path: String,
    /// The auth style when `CONTRACT_AUTH` does not say.
    #[serde(default)]
    pub auth: AuthStyle,
    /// Items on a page when the request names no limit.
    pub default_limit: u64,
    /// The largest limit the API accepts.
    pub max_limit: u64,
    /// The query parameter that carries the limit.
    #[serde(default = "default_limit_param")]
    pub limit_param: String,
    /// The query parameter that carries the cursor (the id of the previous page's last item).
    pub cursor_param: String,
    /// The item field that identifies an item and serves as the cursor.
    pub id_field: String,
    /// The item field the listing is ordered by (an integer).
    pub order_key: String,
    pub order: Direction,
    /// How far the server's clock, and the lag before a new item shows in its listing, may
    /// trail ours. Items whose order key (a creation time in Unix seconds) is at most this
    /// much older than the start of a run count as created during the run: one walk seeing
    /// them and another not is live traffic, not a gap.
    #[serde(default = "default_clock_skew")]
    pub clock_skew_secs: u64,
    pub schemas: SchemaFiles,
    /// What item values mean beyond their JSON type (invariant `plausible`); empty: no such
    /// checks.
    #[serde(default)]
    pub plausible: Plausibility,
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
        cursor_param: "after".into(),
        id_field: "id".into(),
        order_key: "created_at".into(),
        order: Direction::Desc,
        clock_skew_secs: default_clock_skew(),
        schemas: SchemaFiles {
            list: "batch-list.json".into(),
            error: "error.json".into(),
        },
        plausible: Plausibility::default(),
        known_headers: Vec::new(),
        known_header_prefixes: Vec::new(),
        plausible_errors: ErrorPlausibility::default(),
    }
}
