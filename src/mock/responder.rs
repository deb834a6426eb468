//! The contract, implemented: auth, limit validation, `after` cursors, newest first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

use super::MockConfig;
use super::dataset::STATUSES;
use crate::contract::AuthStyle;

/// A family of drift, as the README's catalogue groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Fields missing, renamed, retyped, nulled or re-enumerated; envelopes of another shape.
    Schema,
    /// One page on its own: size, default limit, `first_id`/`last_id`, empty pages, order.
    Page,
    /// Between pages: `has_more`, cursors, duplicates, gaps, orders that change.
    Walk,
    /// Errors and auth: keys not checked, invalid parameters accepted or crashing.
    Negative,
    /// The HTTP layer: hangs, truncated bodies, wrong content types, persistent 5xx.
    Transport,
    /// Values that keep their JSON type but lose their meaning.
    Plausibility,
}

impl Family {
    pub const ALL: [Family; 6] = [
        Family::Schema,
        Family::Page,
        Family::Walk,
        Family::Negative,
        Family::Transport,
        Family::Plausibility,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Schema => "schema",
            Family::Page => "page",
            Family::Walk => "walk",
            Family::Negative => "negative and auth",
            Family::Transport => "transport",
            Family::Plausibility => "plausibility",
        }
    }
}

/// A way to break the contract, for proving that the harness notices. The doc of each says
/// how real servers come to do it; "(wild)" marks drift the contract lists as seen in public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    // Schema drift.
    /// `created_at` is sent as a string on every item (wild).
    CreatedAtAsString,
    /// The envelope has no `has_more` (wild; openai-node then stops after page one).
    MissingHasMore,
    /// `has_more` is `null` (wild: a nullable field in a compatible server's model).
    HasMoreNull,
    /// The envelope has no `first_id` and `last_id` (wild).
    MissingFirstLastId,
    /// The envelope calls its array `items` instead of `data` (a renamed envelope key).
    DataRenamed,
    /// An empty page sends `data: null` (wild: a nullable slice serialized as null).
    DataNullWhenEmpty,
    /// The envelope's `object` is `"page"` instead of `"list"`.
    EnvelopeObjectRenamed,
    /// The body is a bare array of batches, with no envelope (wild).
    BareArray,
    /// Another envelope altogether: `{"batches": [...], "next_cursor": ...}`.
    CursorEnvelope,
    /// Items carry `batch_id` instead of `id` (a renamed item field).
    IdRenamed,
    /// Items' `object` is `"batch_job"` instead of `"batch"`.
    ItemObjectRenamed,
    /// The status `in_progress` is sent as `running` (a re-enumerated field).
    StatusRenamed,
    /// `errors` is a string on failed batches (wild).
    ErrorsAsString,
    /// `input_file_id` is `null` on every item (a required field nulled).
    InputFileIdNull,
    /// `request_counts` values are strings (retyped nested fields).
    RequestCountsAsStrings,
    /// `metadata` values are numbers where strings are required.
    MetadataValueNumber,
    /// One batch deep in the listing (the 201st) has a status outside the enum: only a walk
    /// reaches it.
    DeepItemUnknownStatus,

    // Page invariants.
    /// Pages hold one item more than the limit.
    LimitPlusOne,
    /// With no `limit`, a page holds 50 items (the contract's default is 20).
    DefaultLimitWrong,
    /// `limit` is ignored: every page holds the default number of items.
    LimitIgnored,
    /// `first_id` names the second item.
    WrongFirstId,
    /// `last_id` names the second-to-last item.
    WrongLastId,
    /// `first_id` is `null` on pages that have items.
    FirstIdNull,
    /// Empty pages claim `has_more: true` and carry ids (wild).
    EmptyPageLies,
    /// Empty pages repeat the cursor as `first_id` and `last_id`.
    EmptyPageStaleIds,
    /// The listing is served oldest first.
    OldestFirst,
    /// The second and third items of every page are swapped (a sort applied to part of it).
    UnsortedPage,

    // Walk invariants.
    /// `after` is ignored: every request gets the first page (wild: a proxy that drops it).
    CursorIgnored,
    /// The page after a cursor starts with the cursor's own item (`>=` where `>` was meant).
    CursorInclusive,
    /// The page after a cursor starts one item late: an item is skipped at every boundary.
    CursorSkipsOne,
    /// Only at the maximum limit, the page after a cursor starts one item late (an
    /// off-by-one in one code path): no single walk can see it.
    MaxLimitSkipsOne,
    /// The item at the first page boundary at or past the middle of the listing is served
    /// again at the top of the next page, once.
    DuplicateOnce,
    /// The item after the first page boundary at or past the middle of the listing is
    /// skipped, once.
    GapOnce,
    /// `has_more` is true on every page, the last one included.
    HasMoreAlwaysTrue,
    /// `has_more` is false on the first page, although more items follow.
    HasMoreFalseEarly,
    /// `has_more` is false on the page that holds the middle of the listing.
    HasMoreFalseMidway,
    /// The page after the first boundary at or past the middle is empty, `has_more` true
    /// (wild: pages of `data: []` with `has_more: true`).
    EmptyPageMidway,
    /// After the last item, the cursor wraps around to the first page, `has_more` still true.
    WrapAround,
    /// Pages run from the oldest items to the newest, each sorted newest first inside (a
    /// server that pages ascending and sorts each page for display).
    PagesOldestFirst,
    /// Items with equal `created_at` come in reverse order when the limit is odd (a query plan
    /// that changes with the limit): every walk is consistent, but walks disagree.
    TieOrderDependsOnLimit,
    /// Items with equal `created_at` come in an order that changes from request to request
    /// (wild: ties with no tie-break).
    TiesUnstable,

    // Negative and auth.
    /// Any key, or none, is answered with 200.
    AuthNotChecked,
    /// Any non-empty key is answered with 200: only its presence is checked.
    KeyPresenceOnly,
    /// Only `Authorization: Bearer` is read (the auth scheme changed under the clients).
    BearerOnly,
    /// A missing or wrong key is answered 403 instead of 401.
    Forbidden403,
    /// A `limit` above the maximum is clamped and answered with 200 (wild).
    LimitAboveMaxClamped,
    /// A `limit` below 1 is answered with a default page (wild).
    NonPositiveLimitAccepted,
    /// A `limit` that is not an integer is answered with a default page.
    NonIntegerLimitAccepted,
    /// An invalid `limit` crashes the server with a 500 whose debug page echoes the request
    /// headers, credentials included (as careless error pages do).
    InvalidLimitCrashes,
    /// An unknown `after` crashes the server with a 500.
    UnknownAfterCrashes,
    /// Error bodies are `{"error": "<message>"}`: a string where an object belongs.
    ErrorAsString,
    /// Error bodies are flat: `{"message", "type", "code"}` with no `error` object.
    ErrorFlat,

    // Transport.
    /// Page bodies are sent as `text/plain`.
    TextContentType,
    /// Page responses carry no `Content-Type` at all.
    NoContentType,
    /// Page bodies are cut off half way.
    TruncatedBody,
    /// Page bodies are empty, with status 200.
    EmptyBody,
    /// A gateway's HTML page is served with status 200 instead of the list.
    HtmlPage,
    /// Page bodies carry trailing bytes after the JSON (a cache's comment appended).
    TrailingGarbage,
    /// Every request is answered 503, retries or not.
    Persistent503,
    /// Every request hangs for a minute before it is answered.
    Hang,

    // Plausibility.
    /// Every timestamp is in milliseconds: still integers, still in order.
    TimesInMilliseconds,
    /// `request_counts.completed + failed` exceeds `total`.
    CountsExceedTotal,
    /// `completed_at` comes an hour before `created_at`.
    CompletedBeforeCreated,
    /// `expires_at` is `0` where a time is meant.
    ExpiresAtZero,
}

impl Fault {
    /// The whole catalogue, in the order of its families.
    pub const ALL: [Fault; 64] = [
        Fault::CreatedAtAsString,
        Fault::MissingHasMore,
        Fault::HasMoreNull,
        Fault::MissingFirstLastId,
        Fault::DataRenamed,
        Fault::DataNullWhenEmpty,
        Fault::EnvelopeObjectRenamed,
        Fault::BareArray,
        Fault::CursorEnvelope,
        Fault::IdRenamed,
        Fault::ItemObjectRenamed,
        Fault::StatusRenamed,
        Fault::ErrorsAsString,
        Fault::InputFileIdNull,
        Fault::RequestCountsAsStrings,
        Fault::MetadataValueNumber,
        Fault::DeepItemUnknownStatus,
        Fault::LimitPlusOne,
        Fault::DefaultLimitWrong,
        Fault::LimitIgnored,
        Fault::WrongFirstId,
        Fault::WrongLastId,
        Fault::FirstIdNull,
        Fault::EmptyPageLies,
        Fault::EmptyPageStaleIds,
        Fault::OldestFirst,
        Fault::UnsortedPage,
        Fault::CursorIgnored,
        Fault::CursorInclusive,
        Fault::CursorSkipsOne,
        Fault::MaxLimitSkipsOne,
        Fault::DuplicateOnce,
        Fault::GapOnce,
        Fault::HasMoreAlwaysTrue,
        Fault::HasMoreFalseEarly,
        Fault::HasMoreFalseMidway,
        Fault::EmptyPageMidway,
        Fault::WrapAround,
        Fault::PagesOldestFirst,
        Fault::TieOrderDependsOnLimit,
        Fault::TiesUnstable,
        Fault::AuthNotChecked,
        Fault::KeyPresenceOnly,
        Fault::BearerOnly,
        Fault::Forbidden403,
        Fault::LimitAboveMaxClamped,
        Fault::NonPositiveLimitAccepted,
        Fault::NonIntegerLimitAccepted,
        Fault::InvalidLimitCrashes,
        Fault::UnknownAfterCrashes,
        Fault::ErrorAsString,
        Fault::ErrorFlat,
        Fault::TextContentType,
        Fault::NoContentType,
        Fault::TruncatedBody,
        Fault::EmptyBody,
        Fault::HtmlPage,
        Fault::TrailingGarbage,
        Fault::Persistent503,
        Fault::Hang,
        Fault::TimesInMilliseconds,
        Fault::CountsExceedTotal,
        Fault::CompletedBeforeCreated,
        Fault::ExpiresAtZero,
    ];

    pub fn family(self) -> Family {
        use Fault::*;
        match self {
            CreatedAtAsString
            | MissingHasMore
            | HasMoreNull
            | MissingFirstLastId
            | DataRenamed
            | DataNullWhenEmpty
            | EnvelopeObjectRenamed
            | BareArray
            | CursorEnvelope
            | IdRenamed
            | ItemObjectRenamed
            | StatusRenamed
            | ErrorsAsString
            | InputFileIdNull
            | RequestCountsAsStrings
            | MetadataValueNumber
            | DeepItemUnknownStatus => Family::Schema,
            LimitPlusOne | DefaultLimitWrong | LimitIgnored | WrongFirstId | WrongLastId
            | FirstIdNull | EmptyPageLies | EmptyPageStaleIds | OldestFirst | UnsortedPage => {
                Family::Page
            }
            CursorIgnored
            | CursorInclusive
            | CursorSkipsOne
            | MaxLimitSkipsOne
            | DuplicateOnce
            | GapOnce
            | HasMoreAlwaysTrue
            | HasMoreFalseEarly
            | HasMoreFalseMidway
            | EmptyPageMidway
            | WrapAround
            | PagesOldestFirst
            | TieOrderDependsOnLimit
            | TiesUnstable => Family::Walk,
            AuthNotChecked
            | KeyPresenceOnly
            | BearerOnly
            | Forbidden403
            | LimitAboveMaxClamped
            | NonPositiveLimitAccepted
            | NonIntegerLimitAccepted
            | InvalidLimitCrashes
            | UnknownAfterCrashes
            | ErrorAsString
            | ErrorFlat => Family::Negative,
            TextContentType | NoContentType | TruncatedBody | EmptyBody | HtmlPage
            | TrailingGarbage | Persistent503 | Hang => Family::Transport,
            TimesInMilliseconds | CountsExceedTotal | CompletedBeforeCreated | ExpiresAtZero => {
                Family::Plausibility
            }
        }
    }
}

pub(super) struct Responder {
    config: MockConfig,
    listing: Arc<Mutex<Vec<Value>>>,
    /// Requests past auth, for live traffic.
    requests: AtomicUsize,
    /// Every request, for transient trouble.
    received: AtomicUsize,
}

/// How `DefaultLimitWrong` pages when no limit is sent.
const WRONG_DEFAULT_LIMIT: usize = 50;
/// The position in the listing of the batch `DeepItemUnknownStatus` breaks: past the first
/// page at any limit up to 200.
const DEEP_ITEM: usize = 200;

impl Responder {
    pub(super) fn new(config: MockConfig, listing: Arc<Mutex<Vec<Value>>>) -> Self {
        Responder {
            config,
            listing,
            requests: AtomicUsize::new(0),
            received: AtomicUsize::new(0),
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.config.faults.contains(&fault)
    }

    fn authorized(&self, request: &Request) -> bool {
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        let bearer = || header("authorization").and_then(|v| v.strip_prefix("Bearer "));
        let given = match self.config.auth {
            _ if self.has(Fault::BearerOnly) => bearer(),
            AuthStyle::XApiKey => header("x-api-key"),
            AuthStyle::Bearer => bearer(),
        };
        if self.has(Fault::KeyPresenceOnly) {
            return given.is_some_and(|k| !k.is_empty());
        }
        given == Some(self.config.key.as_str())
    }

    /// An error response in the contract's shape, or in the shape a fault gives it.
    fn error(
        &self,
        status: u16,
        message: &str,
        param: Option<&str>,
        code: Option<&str>,
    ) -> ResponseTemplate {
        let kind = "invalid_request_error";
        let body = if self.has(Fault::ErrorAsString) {
            json!({ "error": message })
        } else if self.has(Fault::ErrorFlat) {
            json!({"message": message, "type": kind, "code": code})
        } else {
            json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
        };
        ResponseTemplate::new(status).set_body_json(body)
    }

    /// Live traffic: every `every` requests, a new batch appears at the head of the listing
    /// and an older one changes status, as other jobs on a staging account would make happen.
    fn live_traffic(&self, listing: &mut Vec<Value>, request_no: usize) {
        let Some(every) = self.config.live_every.filter(|n| *n > 0) else {
            return;
        };
        if request_no % every != 0 {
            return;
        }
        let tick = request_no / every;
        if let Some(i) = (!listing.is_empty()).then(|| (tick * 37) % listing.len()) {
            listing[i]["status"] = STATUSES[tick % STATUSES.len()].into();
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut fresh = super::dataset::generate(1, self.config.seed ^ tick as u64)
            .pop()
            .expect("one batch");
        fresh["id"] = format!("batch_live{tick:06}").into();
        super::dataset::shift_times(&mut fresh, now - super::dataset::NEWEST);
        listing.insert(0, fresh);
    }

    /// The listing in the order this request sees it.
    fn ordered<'a>(&self, items: &'a [Value], limit: usize, after: Option<&str>) -> Vec<&'a Value> {
        let mut listing: Vec<&Value> =
            if self.has(Fault::OldestFirst) || self.has(Fault::PagesOldestFirst) {
                items.iter().rev().collect()
            } else {
                items.iter().collect()
            };
        let ties = |a: &&Value, b: &&Value| a["created_at"] == b["created_at"];
        if self.has(Fault::TieOrderDependsOnLimit) && limit % 2 == 1 {
            for run in listing.chunk_by_mut(ties) {
                run.reverse();
            }
        }
        if self.has(Fault::TiesUnstable) {
            // No tie-break: each request sees ties in an order of its own. FNV-1a of the
            // request, so the order is the same on every toolchain.
            let request = format!("{limit}:{}", after.unwrap_or(""));
            let turn = request.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            }) as usize;
            for (n, run) in listing.chunk_by_mut(ties).enumerate() {
                let len = run.len();
                run.rotate_left(turn.wrapping_add(n) % len);
            }
        }
        listing
    }

    fn page(
        &self,
        items: &[Value],
        limit: usize,
        after: Option<&str>,
    ) -> Result<Value, Box<ResponseTemplate>> {
        let listing = self.ordered(items, limit, after);
        let len = listing.len();
        // The first page boundary at or past the middle, for the faults that strike once.
        let once_at = (len / 2).div_ceil(limit.max(1)) * limit.max(1);
        let start = match after {
            None => 0,
            Some(_) if self.has(Fault::CursorIgnored) => 0,
            Some(cursor) => match listing.iter().position(|b| b["id"] == cursor) {
                Some(i) if self.has(Fault::CursorInclusive) => i,
                Some(i) if self.has(Fault::CursorSkipsOne) => i + 2,
                Some(i)
                    if self.has(Fault::MaxLimitSkipsOne)
                        && limit as u64 == self.config.max_limit =>
                {
                    i + 2
                }
                Some(i) if self.has(Fault::PagesOldestFirst) => i + limit,
                Some(i) if self.has(Fault::DuplicateOnce) && i + 1 == once_at => i,
                Some(i) if self.has(Fault::GapOnce) && i + 1 == once_at => i + 2,
                Some(i) if self.has(Fault::WrapAround) && i + 1 == len => 0,
                Some(i) => i + 1,
                None if self.has(Fault::UnknownAfterCrashes) => {
                    return Err(Box::new(
                        ResponseTemplate::new(500).set_body_string("Internal Server Error"),
                    ));
                }
                None => {
                    return Err(Box::new(self.error(
                        404,
                        &format!("No batch found with id '{cursor}'."),
                        Some("after"),
                        None,
                    )));
                }
            },
        }
        .min(len);
        let take = if self.has(Fault::LimitPlusOne) {
            limit + 1
        } else if self.config.short_pages {
            limit.div_ceil(2)
        } else {
            limit
        };
        let empty_midway =
            self.has(Fault::EmptyPageMidway) && after.is_some() && start == once_at && start < len;
        let end = if empty_midway {
            start
        } else {
            (start + take).min(len)
        };
        let deep_id = items.get(DEEP_ITEM).map(|b| &b["id"]);
        let mut data: Vec<Value> = listing[start..end].iter().map(|b| (*b).clone()).collect();
        if self.has(Fault::PagesOldestFirst) {
            data.reverse();
        }
        if self.has(Fault::UnsortedPage) && data.len() >= 3 {
            data.swap(1, 2);
        }
        let lies_true = self.has(Fault::HasMoreAlwaysTrue) || self.has(Fault::WrapAround);
        let lies_false = (self.has(Fault::HasMoreFalseEarly) && after.is_none())
            || (self.has(Fault::HasMoreFalseMidway) && (start..end).contains(&(len / 2)));
        let has_more = lies_true || empty_midway || (!lies_false && end < len);
        let id = |i: usize| data.get(i).map(|b| b["id"].clone()).unwrap_or(Value::Null);
        let first = if self.has(Fault::WrongFirstId) && data.len() > 1 {
            id(1)
        } else if self.has(Fault::FirstIdNull) {
            Value::Null
        } else {
            id(0)
        };
        let last_index = data.len().saturating_sub(1);
        let last = if self.has(Fault::WrongLastId) && data.len() > 1 {
            id(last_index - 1)
        } else {
            id(last_index)
        };
        for item in &mut data {
            let deep = deep_id == Some(&item["id"]);
            self.drift_item(item, deep);
        }
        Ok(self.envelope(data, first, last, has_more, after))
    }

    /// The item faults: fields renamed, retyped, nulled, re-enumerated or made implausible.
    fn drift_item(&self, item: &mut Value, deep: bool) {
        let Some(b) = item.as_object_mut() else {
            return;
        };
        let get = |b: &serde_json::Map<String, Value>, key: &str| b.get(key).cloned();
        if let Some(t) = get(b, "created_at").filter(|_| self.has(Fault::CreatedAtAsString)) {
            b.insert("created_at".into(), t.to_string().into());
        }
        if self.has(Fault::IdRenamed) {
            let id = b.remove("id").unwrap_or_default();
            b.insert("batch_id".into(), id);
        }
        if self.has(Fault::ItemObjectRenamed) {
            b.insert("object".into(), "batch_job".into());
        }
        if self.has(Fault::StatusRenamed) && get(b, "status").is_some_and(|s| s == "in_progress") {
            b.insert("status".into(), "running".into());
        }
        if self.has(Fault::DeepItemUnknownStatus) && deep {
            b.insert("status".into(), "archived".into());
        }
        if self.has(Fault::ErrorsAsString) && get(b, "errors").is_some_and(|e| e.is_object()) {
            b.insert("errors".into(), "invalid_json_line".into());
        }
        if self.has(Fault::InputFileIdNull) {
            b.insert("input_file_id".into(), Value::Null);
        }
        if let Some(counts) = b.get_mut("request_counts").and_then(Value::as_object_mut) {
            if self.has(Fault::RequestCountsAsStrings) {
                for v in counts.values_mut() {
                    *v = v.to_string().into();
                }
            }
            if self.has(Fault::CountsExceedTotal) {
                let count = |key: &str| counts.get(key).and_then(Value::as_i64).unwrap_or(0);
                let failed = count("total") - count("completed") + 1;
                counts.insert("failed".into(), failed.into());
            }
        }
        if self.has(Fault::MetadataValueNumber) {
            if let Some(metadata) = b.get_mut("metadata").and_then(Value::as_object_mut) {
                for v in metadata.values_mut() {
                    *v = 7.into();
                }
            }
        }
        if self.has(Fault::TimesInMilliseconds) {
            for (key, v) in b.iter_mut() {
                if let Some(t) = v.as_i64().filter(|_| key.ends_with("_at")) {
                    *v = (t * 1000).into();
                }
            }
        }
        let created = get(b, "created_at").and_then(|t| t.as_i64());
        let completed = get(b, "completed_at").and_then(|t| t.as_i64());
        if let (Some(created), Some(_)) = (created, completed) {
            if self.has(Fault::CompletedBeforeCreated) {
                b.insert("completed_at".into(), (created - 3_600).into());
            }
        }
        if self.has(Fault::ExpiresAtZero) && b.contains_key("expires_at") {
            b.insert("expires_at".into(), 0.into());
        }
        if self.config.additive_fields {
            b.insert("priority".into(), "standard".into());
            b.insert(
                "output_expires_after".into(),
                json!({"anchor": "created_at", "seconds": 2_592_000}),
            );
        }
    }

    /// The list envelope around `data`, or what a fault makes of it.
    fn envelope(
        &self,
        data: Vec<Value>,
        first: Value,
        last: Value,
        has_more: bool,
        after: Option<&str>,
    ) -> Value {
        if self.has(Fault::BareArray) {
            return Value::Array(data);
        }
        if self.has(Fault::CursorEnvelope) {
            let next = if has_more { last } else { Value::Null };
            return json!({"batches": data, "next_cursor": next});
        }
        let empty = data.is_empty();
        let mut body = json!({
            "object": "list",
            "data": data,
            "first_id": first,
            "last_id": last,
            "has_more": has_more,
        });
        if empty && self.has(Fault::EmptyPageLies) {
            body["has_more"] = true.into();
            body["first_id"] = "batch_phantom".into();
            body["last_id"] = "batch_phantom".into();
        }
        if let Some(cursor) = after.filter(|_| empty && self.has(Fault::EmptyPageStaleIds)) {
            body["first_id"] = cursor.into();
            body["last_id"] = cursor.into();
        }
        if empty && self.has(Fault::DataNullWhenEmpty) {
            body["data"] = Value::Null;
        }
        if self.has(Fault::HasMoreNull) {
            body["has_more"] = Value::Null;
        }
        if self.has(Fault::EnvelopeObjectRenamed) {
            body["object"] = "page".into();
        }
        let envelope = body.as_object_mut().expect("an object");
        if self.has(Fault::MissingHasMore) {
            envelope.remove("has_more");
        }
        if self.has(Fault::MissingFirstLastId) {
            envelope.remove("first_id");
            envelope.remove("last_id");
        }
        if self.has(Fault::DataRenamed) {
            let data = envelope.remove("data").unwrap_or_default();
            envelope.insert("items".into(), data);
        }
        if self.config.additive_fields {
            envelope.insert("total_count".into(), Value::Null);
        }
        body
    }

    fn limit(&self, request: &Request, raw: Option<&str>) -> Result<usize, Box<ResponseTemplate>> {
        let default = if self.has(Fault::DefaultLimitWrong) {
            WRONG_DEFAULT_LIMIT
        } else {
            self.config.default_limit as usize
        };
        let Some(raw) = raw.filter(|_| !self.has(Fault::LimitIgnored)) else {
            return Ok(default);
        };
        let invalid = |message: String, code: &str| {
            if self.has(Fault::InvalidLimitCrashes) {
                let headers: Vec<String> = request
                    .headers
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
                    .collect();
                return Box::new(
                    ResponseTemplate::new(500)
                        .set_body_string(format!("Internal Server Error\n{}", headers.join("\n"))),
                );
            }
            Box::new(self.error(400, &message, Some(&self.config.limit_param), Some(code)))
        };
        let Ok(n) = raw.parse::<i64>() else {
            if self.has(Fault::NonIntegerLimitAccepted) {
                return Ok(default);
            }
            return Err(invalid(
                format!("Invalid type for 'limit': expected an integer, but got '{raw}'."),
                "invalid_type",
            ));
        };
        if n < 1 {
            if self.has(Fault::NonPositiveLimitAccepted) {
                return Ok(default);
            }
            return Err(invalid(
                format!(
                    "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got {n} instead."
                ),
                "integer_below_min_value",
            ));
        }
        if n as u64 > self.config.max_limit {
            if self.has(Fault::LimitAboveMaxClamped) {
                return Ok(self.config.max_limit as usize);
            }
            return Err(invalid(
                format!(
                    "Invalid 'limit': integer above maximum value. Expected a value <= {}, but got {n} instead.",
                    self.config.max_limit
                ),
                "integer_above_max_value",
            ));
        }
        Ok(n as usize)
    }

    /// A page body as it goes on the wire, or what a transport fault makes of it.
    fn wire(&self, body: &Value) -> ResponseTemplate {
        let mut bytes = serde_json::to_vec(body).expect("a JSON value serializes");
        if self.has(Fault::TruncatedBody) {
            bytes.truncate(bytes.len() / 2);
        }
        if self.has(Fault::TrailingGarbage) {
            bytes.extend_from_slice(b"\n<!-- served from cache -->\n");
        }
        if self.has(Fault::EmptyBody) {
            bytes.clear();
        }
        if self.has(Fault::HtmlPage) {
            return ResponseTemplate::new(200).set_body_raw(
                "<html><body><h1>Gateway</h1><p>The upstream is warming up.</p></body></html>",
                "text/html",
            );
        }
        if self.has(Fault::NoContentType) {
            return ResponseTemplate::new(200).set_body_bytes(bytes);
        }
        let mime = if self.has(Fault::TextContentType) {
            "text/plain"
        } else {
            "application/json"
        };
        ResponseTemplate::new(200).set_body_raw(bytes, mime)
    }

    fn answer(&self, request: &Request) -> ResponseTemplate {
        let received = self.received.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(every) = self.config.transient_every.filter(|n| *n > 0) {
            if received % every == 0 {
                return if (received / every) % 2 == 1 {
                    ResponseTemplate::new(429)
                        .insert_header("retry-after", "0.05")
                        .set_body_json(json!({"error": {"message": "Rate limit reached.",
                            "type": "requests", "param": null, "code": "rate_limit_exceeded"}}))
                } else {
                    ResponseTemplate::new(503).set_body_string("Service Unavailable")
                };
            }
        }
        if self.has(Fault::Persistent503) {
            return ResponseTemplate::new(503).set_body_string("Service Unavailable");
        }
        let endpoint = format!(
            "{}{}",
            self.config.prefix.trim_end_matches('/'),
            self.config.path
        );
        if request.url.path() != endpoint {
            return self.error(
                404,
                &format!("Unknown request URL: {}", request.url.path()),
                None,
                Some("unknown_url"),
            );
        }
        if request.method.as_str() != "GET" {
            return self.error(405, "Only GET is supported on this URL.", None, None);
        }
        if !self.has(Fault::AuthNotChecked) && !self.authorized(request) {
            let status = if self.has(Fault::Forbidden403) {
                403
            } else {
                401
            };
            return self.error(
                status,
                "Incorrect API key provided.",
                None,
                Some("invalid_api_key"),
            );
        }
        let query = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let request_no = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let mut listing = self.listing.lock().unwrap_or_else(|e| e.into_inner());
        self.live_traffic(&mut listing, request_no);
        let result = self
            .limit(request, query(&self.config.limit_param).as_deref())
            .and_then(|limit| {
                self.page(&listing, limit, query(&self.config.cursor_param).as_deref())
            });
        drop(listing);
        match result {
            Ok(body) if self.config.additive_fields => {
                self.wire(&body).insert_header("x-batch-region", "eu-west")
            }
            Ok(body) => self.wire(&body),
            Err(response) => *response,
        }
    }
}

/// How long `Fault::Hang` keeps every request waiting.
const HANG: Duration = Duration::from_secs(60);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let response = self.answer(request);
        if self.has(Fault::Hang) {
            response.set_delay(HANG)
        } else {
            response
        }
    }
}
