//! The contract, implemented: auth, required headers, limit validation, forward and backward
//! cursors (ids or opaque tokens), the order parameter, filters, the envelope by its pointers
//! and errors in the suite's style.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

use super::MockConfig;
use super::dataset::STATUSES;
use super::examples::{self, set_pointer, take_pointer};
use crate::contract::{
    AuthStyle, Contract, CursorSource, Direction, ErrorStyle, KeyKind, PageOrder,
};

/// A family of drift, as the drift catalogue of docs/invariants.md groups them.
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
    /// Backward pages, the order parameter and filters.
    Paging,
}

impl Family {
    pub const ALL: [Family; 7] = [
        Family::Schema,
        Family::Page,
        Family::Walk,
        Family::Negative,
        Family::Transport,
        Family::Plausibility,
        Family::Paging,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Schema => "schema",
            Family::Page => "page",
            Family::Walk => "walk",
            Family::Negative => "negative and auth",
            Family::Transport => "transport",
            Family::Plausibility => "plausibility",
            Family::Paging => "backward, order and filters",
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
    /// RFC 3339 times are sent as Unix-second integers (a compatible server that reuses its
    /// OpenAI models for an Anthropic endpoint). Suites with RFC 3339 order keys.
    TimesAsIntegers,

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
    /// The listing is served oldest first (on a suite with an `order` parameter: in the
    /// other direction than asked).
    OldestFirst,
    /// The second and third items of every page are swapped (a sort applied to part of it).
    UnsortedPage,
    /// `data[].id` carries a routing prefix (`litellm_proxy:`) while `first_id` and `last_id`
    /// stay the raw ids, and the prefixed ids are unknown as cursors (wild: the LiteLLM proxy
    /// under model routing; the official SDK then gets a 404 on page 2).
    LastIdRaw,

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
    /// Token cursors: the second page's next-page token repeats the first page's (a token
    /// cached per session and never advanced). Suites with `cursor_source = "token"`.
    CursorTokenReused,

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
    /// A request without a required header (`anthropic-version`) is answered 200 (a
    /// compatible server that never reads it). Suites with `headers`.
    RequiredHeaderNotChecked,

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

    // Backward pages, the order parameter and filters.
    /// Backward pages come nearest the cursor first although the contract says list order (a
    /// server that runs the backward query as the forward one with the comparison flipped, and
    /// forgets to reverse the rows). Suites with `[backward]`.
    BackwardPageReversed,
    /// A backward page includes the cursor's own item (`<=` where `<` was meant). Suites with
    /// `[backward]`.
    BackwardInclusive,
    /// `has_more` is false on the first page back from the end of the listing (a cursor in the
    /// last `limit` items), although more items lie further back (a server that computes
    /// `has_more` for the forward direction only). Suites with `[backward]`.
    BackwardHasMoreFalseEarly,
    /// The order parameter is ignored: every request gets the default direction (a proxy that
    /// drops it, or a server that never implemented it). Suites with `[order_param]`.
    OrderIgnored,
    /// Filter parameters are ignored: every listing is unfiltered (a proxy that does not
    /// forward them). Suites with `[[filters]]`.
    FilterIgnored,
    /// One item that does not match leaks into a filtered listing, right after its ninth
    /// matching item (past the first page at limit 7): a filter applied by a query whose `OR`
    /// binds the wrong way for one kind of row. Suites with `[[filters]]`.
    FilterLeaksOne,
    /// The ninth matching item of a filtered listing is left out (a filter applied after
    /// paging, with an off-by-one). Suites with `[[filters]]`.
    FilterDropsOne,
}

impl Fault {
    /// The whole catalogue, in the order of its families.
    pub const ALL: [Fault; 75] = [
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
        Fault::TimesAsIntegers,
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
        Fault::LastIdRaw,
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
        Fault::CursorTokenReused,
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
        Fault::RequiredHeaderNotChecked,
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
        Fault::BackwardPageReversed,
        Fault::BackwardInclusive,
        Fault::BackwardHasMoreFalseEarly,
        Fault::OrderIgnored,
        Fault::FilterIgnored,
        Fault::FilterLeaksOne,
        Fault::FilterDropsOne,
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
            | DeepItemUnknownStatus
            | TimesAsIntegers => Family::Schema,
            LimitPlusOne | DefaultLimitWrong | LimitIgnored | WrongFirstId | WrongLastId
            | FirstIdNull | EmptyPageLies | EmptyPageStaleIds | OldestFirst | UnsortedPage
            | LastIdRaw => Family::Page,
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
            | TiesUnstable
            | CursorTokenReused => Family::Walk,
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
            | ErrorFlat
            | RequiredHeaderNotChecked => Family::Negative,
            TextContentType | NoContentType | TruncatedBody | EmptyBody | HtmlPage
            | TrailingGarbage | Persistent503 | Hang => Family::Transport,
            TimesInMilliseconds | CountsExceedTotal | CompletedBeforeCreated | ExpiresAtZero => {
                Family::Plausibility
            }
            BackwardPageReversed
            | BackwardInclusive
            | BackwardHasMoreFalseEarly
            | OrderIgnored
            | FilterIgnored
            | FilterLeaksOne
            | FilterDropsOne => Family::Paging,
        }
    }

    /// Whether the fault can show on a suite with `contract`, served from the dataset its
    /// `[mock]` names; every fault the catalogue runs against a suite must apply to it.
    ///
    /// Batch-only (they name List Batches fields, so they apply only where the List Batches
    /// generator serves, i.e. no `[mock] examples`): `StatusRenamed`, `ErrorsAsString`,
    /// `InputFileIdNull`, `RequestCountsAsStrings`, `MetadataValueNumber`,
    /// `DeepItemUnknownStatus`, `ItemObjectRenamed`, `CountsExceedTotal`,
    /// `CompletedBeforeCreated`, `ExpiresAtZero`; `TimesInMilliseconds` also applies to a
    /// suite whose order key is Unix seconds and declared `[plausible] unix_seconds`.
    ///
    /// Every other fault works by the contract's names (id field, order key, envelope pointers,
    /// parameters) and applies wherever the contract has the feature it breaks: an envelope
    /// field (`first_id`, `last_id`, `object`), `[backward]`, `[order_param]`, `[[filters]]`,
    /// a token cursor (and `EmptyPageStaleIds` only without one), required `headers`, an RFC 3339 or integer order key, `x-api-key` auth
    /// (for `BearerOnly`), a minimum limit of 1 or more, a default limit other than 50, and a
    /// maximum limit below the default listing of 257 items (`MaxLimitSkipsOne`).
    pub fn applies_to(self, contract: &Contract) -> bool {
        use Fault::*;
        let batches = contract.mock.examples.is_none();
        let envelope = &contract.envelope;
        match self {
            StatusRenamed
            | ErrorsAsString
            | InputFileIdNull
            | RequestCountsAsStrings
            | MetadataValueNumber
            | DeepItemUnknownStatus
            | ItemObjectRenamed
            | CountsExceedTotal
            | CompletedBeforeCreated
            | ExpiresAtZero => batches,
            TimesInMilliseconds => {
                batches
                    || (contract.order_key_kind == KeyKind::UnixSeconds
                        && contract
                            .plausible
                            .unix_seconds
                            .contains(&format!("/{}", contract.order_key)))
            }
            CreatedAtAsString => contract.order_key_kind != KeyKind::Rfc3339,
            TimesAsIntegers => contract.order_key_kind == KeyKind::Rfc3339,
            MissingFirstLastId => envelope.first_id().is_some() || envelope.last_id().is_some(),
            // A token walk never asks past its last page: no empty page follows a cursor.
            EmptyPageStaleIds => {
                (envelope.first_id().is_some() || envelope.last_id().is_some())
                    && contract.cursor_source != CursorSource::Token
            }
            WrongFirstId | FirstIdNull => envelope.first_id().is_some(),
            WrongLastId => envelope.last_id().is_some(),
            EnvelopeObjectRenamed => !contract.mock.envelope_object.is_empty(),
            // A default larger than 50 makes the short page legal ("may return fewer").
            DefaultLimitWrong => contract.default_limit < WRONG_DEFAULT_LIMIT as u64,
            MaxLimitSkipsOne => contract.max_limit < super::DEFAULT_ITEMS as u64,
            BearerOnly => contract.auth == AuthStyle::XApiKey,
            NonPositiveLimitAccepted => contract.min_limit >= 1,
            CursorTokenReused => contract.cursor_source == CursorSource::Token,
            RequiredHeaderNotChecked => !contract.headers.is_empty(),
            BackwardPageReversed | BackwardInclusive | BackwardHasMoreFalseEarly => {
                contract.backward.is_some()
            }
            OrderIgnored => contract.order_param.is_some(),
            FilterIgnored | FilterLeaksOne | FilterDropsOne => !contract.filters.is_empty(),
            _ => true,
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
/// How many matching items of a filtered listing come before the one `FilterLeaksOne` leaks
/// and the one `FilterDropsOne` drops: past the first page at limit 7.
const FILTER_FAULT_AT: usize = 8;
/// What `LastIdRaw` puts in front of every item's id.
const ROUTING_PREFIX: &str = "litellm_proxy:";
/// What every next-page token starts with (the rest is the hex of the last item's id).
const TOKEN_PREFIX: &str = "pt1";

/// A request's query, decoded once.
struct Query(Vec<(String, String)>);

impl Query {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An opaque next-page token for the item `id`.
fn token_for(id: &str) -> String {
    let hex: String = id.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{TOKEN_PREFIX}{hex}")
}

/// The item id a token of [`token_for`] stands for.
fn id_of_token(token: &str) -> Option<String> {
    let hex = token.strip_prefix(TOKEN_PREFIX)?;
    if hex.len() % 2 != 0 || !hex.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Which way a request pages from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Forward,
    Backward,
}

type Refusal = Box<ResponseTemplate>;

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

    /// An error response in the suite's style, or in the shape a fault gives it.
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
        } else if self.config.error_style == ErrorStyle::Anthropic {
            let kind = match status {
                401 => "authentication_error",
                403 => "permission_error",
                404 => "not_found_error",
                429 => "rate_limit_error",
                500.. => "api_error",
                _ => kind,
            };
            let request_id = self.request_id();
            return ResponseTemplate::new(status)
                .insert_header("request-id", request_id.as_str())
                .set_body_json(json!({
                    "type": "error",
                    "error": {"type": kind, "message": message},
                    "request_id": request_id,
                }));
        } else {
            json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
        };
        ResponseTemplate::new(status).set_body_json(body)
    }

    /// An Anthropic-style request id (`req_` and 24 hex digits), unique per request.
    fn request_id(&self) -> String {
        let mut rng = super::dataset::Rng(self.received.load(Ordering::Relaxed) as u64);
        format!("req_{:016x}{:08x}", rng.next(), rng.next() as u32)
    }

    /// The message of an invalid limit, in the suite's style.
    fn limit_message(&self, raw: &str, problem: LimitProblem) -> String {
        let (min, max) = (self.config.min_limit, self.config.max_limit);
        let name = &self.config.limit_param;
        match (self.config.error_style, problem) {
            (ErrorStyle::Openai, LimitProblem::NotInteger) => {
                format!("Invalid type for '{name}': expected an integer, but got '{raw}'.")
            }
            (ErrorStyle::Openai, LimitProblem::BelowMin(n)) => format!(
                "Invalid '{name}': integer below minimum value. Expected a value >= {min}, but got {n} instead."
            ),
            (ErrorStyle::Openai, LimitProblem::AboveMax(n)) => format!(
                "Invalid '{name}': integer above maximum value. Expected a value <= {max}, but got {n} instead."
            ),
            (ErrorStyle::Anthropic, LimitProblem::NotInteger) => format!(
                "{name}: Input should be a valid integer, unable to parse string as an integer"
            ),
            (ErrorStyle::Anthropic, LimitProblem::BelowMin(_)) => {
                format!("{name}: Input should be greater than or equal to {min}")
            }
            (ErrorStyle::Anthropic, LimitProblem::AboveMax(_)) => {
                format!("{name}: Input should be less than or equal to {max}")
            }
        }
    }

    /// Live traffic: every `every` requests, a new item appears at the head of the listing
    /// (and, among batches, an older one changes status), as other jobs on a staging account
    /// would make happen.
    fn live_traffic(&self, listing: &mut Vec<Value>, request_no: usize) {
        let Some(every) = self.config.live_every.filter(|n| *n > 0) else {
            return;
        };
        if !request_no.is_multiple_of(every) {
            return;
        }
        let tick = request_no / every;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let fresh = match &self.config.examples {
            Some(examples) => examples::live_item(&self.config, examples, tick, now),
            None => {
                if let Some(i) = (!listing.is_empty()).then(|| (tick * 37) % listing.len()) {
                    listing[i]["status"] = STATUSES[tick % STATUSES.len()].into();
                }
                let mut fresh = super::dataset::generate(1, self.config.seed ^ tick as u64)
                    .pop()
                    .expect("one batch");
                fresh["id"] = format!("batch_live{tick:06}").into();
                super::dataset::shift_times(&mut fresh, now - super::dataset::NEWEST);
                fresh
            }
        };
        listing.insert(0, fresh);
    }

    /// An item's id, if it has one.
    fn id_of<'v>(&self, item: &'v Value) -> Option<&'v str> {
        item.get(&self.config.id_field).and_then(Value::as_str)
    }

    /// The listing in the order this request sees it: the stored listing is newest first, an
    /// ascending request sees it reversed (ties included, so `asc` is exactly `desc` reversed).
    fn ordered<'a>(
        &self,
        items: &'a [Value],
        limit: usize,
        after: Option<&str>,
        direction: Direction,
    ) -> Vec<&'a Value> {
        let flipped = self.has(Fault::OldestFirst) || self.has(Fault::PagesOldestFirst);
        let mut listing: Vec<&Value> = if (direction == Direction::Asc) != flipped {
            items.iter().rev().collect()
        } else {
            items.iter().collect()
        };
        let key = self.config.order_key.as_str();
        let ties = |a: &&Value, b: &&Value| a.get(key) == b.get(key);
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

    /// The direction a request asks for; an unknown value is refused.
    fn direction(&self, query: &Query) -> Result<Direction, Refusal> {
        let param = match &self.config.order_param {
            Some(param) if !self.has(Fault::OrderIgnored) => param,
            _ => return Ok(self.config.order),
        };
        match query.get(&param.name) {
            None => Ok(self.config.order),
            Some(v) if v == param.asc => Ok(Direction::Asc),
            Some(v) if v == param.desc => Ok(Direction::Desc),
            Some(v) => Err(Box::new(self.error(
                400,
                &format!(
                    "Invalid value for '{}': expected one of '{}' or '{}', but got '{v}'.",
                    param.name, param.asc, param.desc
                ),
                Some(&param.name),
                Some("invalid_value"),
            ))),
        }
    }

    /// The positions in `listing` a request's filters let through, in order (all of them when
    /// it sends none), or what a filter fault makes of them.
    fn visible(&self, listing: &[&Value], query: &Query) -> Vec<usize> {
        let filters: Vec<(&str, &str)> = if self.has(Fault::FilterIgnored) {
            Vec::new()
        } else {
            self.config
                .filters
                .iter()
                .filter_map(|f| Some((f.field.as_str(), query.get(&f.param)?)))
                .collect()
        };
        if filters.is_empty() {
            return (0..listing.len()).collect();
        }
        let matches = |item: &Value| {
            filters.iter().all(
                |(field, wanted)| match crate::contract::pointer(item, field) {
                    Some(Value::String(s)) => s == wanted,
                    Some(Value::Number(n)) => {
                        wanted.parse::<serde_json::Number>().ok().as_ref() == Some(n)
                    }
                    Some(Value::Bool(b)) => *wanted == if *b { "true" } else { "false" },
                    _ => false,
                },
            )
        };
        let mut seen = 0;
        let mut leaked = false;
        let mut visible = Vec::new();
        for (i, item) in listing.iter().enumerate() {
            if matches(item) {
                seen += 1;
                if self.has(Fault::FilterDropsOne) && seen == FILTER_FAULT_AT + 1 {
                    continue;
                }
                visible.push(i);
            } else if self.has(Fault::FilterLeaksOne) && !leaked && seen >= FILTER_FAULT_AT {
                leaked = true;
                visible.push(i);
            }
        }
        visible
    }

    /// Where `cursor` (an id, or a token in the token scheme) sits in `listing`.
    fn locate(
        &self,
        listing: &[&Value],
        cursor: &str,
        param: &str,
        token: bool,
    ) -> Result<usize, Refusal> {
        let crash =
            || Box::new(ResponseTemplate::new(500).set_body_string("Internal Server Error"));
        let decoded;
        let id = if token {
            if self.has(Fault::UnknownAfterCrashes) && id_of_token(cursor).is_none() {
                return Err(crash());
            }
            decoded = id_of_token(cursor).ok_or_else(|| {
                Box::new(self.error(
                    400,
                    &format!("Invalid '{param}': `{cursor}` is not a page token of this list."),
                    Some(param),
                    Some("invalid_cursor"),
                ))
            })?;
            decoded.as_str()
        } else {
            cursor
        };
        if let Some(k) = listing.iter().position(|b| self.id_of(b) == Some(id)) {
            return Ok(k);
        }
        if self.has(Fault::UnknownAfterCrashes) {
            return Err(crash());
        }
        let noun = if self.config.examples.is_some() {
            "object"
        } else {
            "batch"
        };
        Err(Box::new(self.error(
            404,
            &format!("No {noun} found with id '{id}'."),
            Some(param),
            None,
        )))
    }

    fn page(&self, items: &[Value], limit: usize, query: &Query) -> Result<Value, Refusal> {
        let after = query.get(&self.config.cursor_param);
        let before = self
            .config
            .backward
            .as_ref()
            .and_then(|b| query.get(&b.param).map(|v| (b, v)));
        if let (Some(_), Some((backward, _))) = (after, before) {
            return Err(Box::new(self.error(
                400,
                &format!(
                    "Only one of '{}' and '{}' may be given.",
                    self.config.cursor_param, backward.param
                ),
                Some(&backward.param),
                None,
            )));
        }
        let direction = self.direction(query)?;
        let listing = self.ordered(items, limit, after, direction);
        let visible = self.visible(&listing, query);
        let len = visible.len();
        let take = if self.has(Fault::LimitPlusOne) {
            limit + 1
        } else if self.config.short_pages {
            limit.div_ceil(2)
        } else {
            limit
        };
        // The first page boundary at or past the middle, for the faults that strike once.
        let once_at = (len / 2).div_ceil(limit.max(1)) * limit.max(1);
        let token_scheme = self.config.cursor_source == CursorSource::Token;

        let (way, start, end, has_more) = if let Some((backward, cursor)) = before {
            let k = self.locate(&listing, cursor, &backward.param, false)?;
            // The visible items before the cursor, and the cursor itself if it is one.
            let before_cursor = visible.partition_point(|&j| j < k);
            let own = visible.get(before_cursor) == Some(&k);
            let end = if own && self.has(Fault::BackwardInclusive) {
                before_cursor + 1
            } else {
                before_cursor
            };
            let start = end.saturating_sub(take);
            let early = self.has(Fault::BackwardHasMoreFalseEarly) && before_cursor + limit >= len;
            (Way::Backward, start, end, start > 0 && !early)
        } else {
            let start = match after {
                None => 0,
                Some(_) if self.has(Fault::CursorIgnored) => 0,
                Some(cursor) => {
                    let k =
                        self.locate(&listing, cursor, &self.config.cursor_param, token_scheme)?;
                    // The first visible item after the cursor.
                    let next = visible.partition_point(|&j| j <= k);
                    if self.has(Fault::CursorInclusive) {
                        next.saturating_sub(1)
                    } else if self.has(Fault::CursorSkipsOne)
                        || (self.has(Fault::MaxLimitSkipsOne)
                            && limit as u64 == self.config.max_limit)
                    {
                        next + 1
                    } else if self.has(Fault::PagesOldestFirst) {
                        (next + limit).saturating_sub(1)
                    } else if self.has(Fault::DuplicateOnce) && next == once_at {
                        next.saturating_sub(1)
                    } else if self.has(Fault::GapOnce) && next == once_at {
                        next + 1
                    } else if self.has(Fault::WrapAround) && next == len {
                        0
                    } else {
                        next
                    }
                }
            }
            .min(len);
            let empty_midway = self.has(Fault::EmptyPageMidway)
                && after.is_some()
                && start == once_at
                && start < len;
            let end = if empty_midway {
                start
            } else {
                (start + take).min(len)
            };
            let lies_true = self.has(Fault::HasMoreAlwaysTrue) || self.has(Fault::WrapAround);
            let lies_false = (self.has(Fault::HasMoreFalseEarly) && after.is_none())
                || (self.has(Fault::HasMoreFalseMidway) && (start..end).contains(&(len / 2)));
            let has_more = lies_true || empty_midway || (!lies_false && end < len);
            (Way::Forward, start, end, has_more)
        };

        let deep_id = items.get(DEEP_ITEM).and_then(|b| self.id_of(b));
        let mut data: Vec<Value> = visible[start..end]
            .iter()
            .map(|&j| listing[j].clone())
            .collect();
        let reversed_backward = before.is_some_and(|(b, _)| {
            (b.page_order == PageOrder::Reversed) != self.has(Fault::BackwardPageReversed)
        });
        if self.has(Fault::PagesOldestFirst) || reversed_backward {
            data.reverse();
        }
        if self.has(Fault::UnsortedPage) && data.len() >= 3 {
            data.swap(1, 2);
        }
        let id = |i: usize| {
            data.get(i)
                .and_then(|b| b.get(&self.config.id_field))
                .cloned()
                .unwrap_or(Value::Null)
        };
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
        let token = if !token_scheme {
            None
        } else if self.has(Fault::CursorTokenReused) && way == Way::Forward && start == take {
            // The page after the first one hands out the token it was asked with.
            after.map(Value::from)
        } else {
            let more = match way {
                Way::Forward => has_more,
                Way::Backward => end < len,
            };
            Some(match id(last_index).as_str().filter(|_| more) {
                Some(last) => token_for(last).into(),
                None => Value::Null,
            })
        };
        for item in &mut data {
            let deep = deep_id.is_some() && self.id_of(item) == deep_id;
            self.drift_item(item, deep);
        }
        Ok(self.envelope(
            data,
            first,
            last,
            has_more,
            after.or(before.map(|b| b.1)),
            token,
        ))
    }

    /// The item faults: fields renamed, retyped, nulled, re-enumerated or made implausible.
    fn drift_item(&self, item: &mut Value, deep: bool) {
        let Some(b) = item.as_object_mut() else {
            return;
        };
        let get = |b: &serde_json::Map<String, Value>, key: &str| b.get(key).cloned();
        let key = self.config.order_key.as_str();
        if let Some(t) = get(b, key).filter(|_| self.has(Fault::CreatedAtAsString)) {
            b.insert(key.into(), t.to_string().into());
        }
        if self.has(Fault::LastIdRaw)
            && let Some(id) = b.get_mut(&self.config.id_field)
            && let Some(raw) = id.as_str()
        {
            *id = format!("{ROUTING_PREFIX}{raw}").into();
        }
        if self.has(Fault::IdRenamed) {
            let id = b.remove(&self.config.id_field).unwrap_or_default();
            b.insert("batch_id".into(), id);
        }
        if self.has(Fault::ItemObjectRenamed) {
            let renamed = match b.get("object").and_then(Value::as_str) {
                Some(object) if self.config.examples.is_some() => format!("{object}_job"),
                _ => "batch_job".to_owned(),
            };
            b.insert("object".into(), renamed.into());
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
        if self.has(Fault::MetadataValueNumber)
            && let Some(metadata) = b.get_mut("metadata").and_then(Value::as_object_mut)
        {
            for v in metadata.values_mut() {
                *v = 7.into();
            }
        }
        if self.has(Fault::TimesInMilliseconds) {
            for (key, v) in b.iter_mut() {
                if let Some(t) = v.as_i64().filter(|_| key.ends_with("_at")) {
                    *v = (t * 1000).into();
                }
            }
        }
        if self.has(Fault::TimesAsIntegers) {
            for v in b.values_mut() {
                let seconds = v
                    .as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.timestamp());
                if let Some(seconds) = seconds {
                    *v = seconds.into();
                }
            }
        }
        let created = get(b, "created_at").and_then(|t| t.as_i64());
        let completed = get(b, "completed_at").and_then(|t| t.as_i64());
        if let (Some(created), Some(_)) = (created, completed)
            && self.has(Fault::CompletedBeforeCreated)
        {
            b.insert("completed_at".into(), (created - 3_600).into());
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

    /// An id no item has, for `EmptyPageLies`.
    fn phantom_id(&self) -> String {
        match &self.config.examples {
            Some(examples) => {
                let first = examples.first().unwrap_or(&Value::Null);
                format!("{}phantom", examples::prefix(&self.config, first))
            }
            None => "batch_phantom".to_owned(),
        }
    }

    /// The list envelope around `data`, its parts where the contract's pointers say, or what a
    /// fault makes of it.
    fn envelope(
        &self,
        data: Vec<Value>,
        first: Value,
        last: Value,
        has_more: bool,
        cursor: Option<&str>,
        token: Option<Value>,
    ) -> Value {
        if self.has(Fault::BareArray) {
            return Value::Array(data);
        }
        if self.has(Fault::CursorEnvelope) {
            let next = if has_more { last } else { Value::Null };
            return json!({"batches": data, "next_cursor": next});
        }
        let shape = &self.config.envelope;
        let empty = data.is_empty();
        let mut body = Value::Object(Map::new());
        if !self.config.envelope_object.is_empty() {
            body["object"] = self.config.envelope_object.clone().into();
        }
        set_pointer(&mut body, &shape.data, Value::Array(data));
        let ids = [shape.first_id(), shape.last_id()];
        for (pointer, id) in ids.into_iter().zip([first, last]) {
            if let Some(pointer) = pointer {
                set_pointer(&mut body, pointer, id);
            }
        }
        set_pointer(&mut body, &shape.has_more, has_more.into());
        if let (Some(pointer), Some(token)) = (&self.config.next_token, token) {
            set_pointer(&mut body, pointer, token);
        }
        let set_ids = |body: &mut Value, id: &str| {
            for pointer in ids.into_iter().flatten() {
                set_pointer(body, pointer, id.into());
            }
        };
        if empty && self.has(Fault::EmptyPageLies) {
            set_pointer(&mut body, &shape.has_more, true.into());
            set_ids(&mut body, &self.phantom_id());
        }
        if let Some(cursor) = cursor.filter(|_| empty && self.has(Fault::EmptyPageStaleIds)) {
            set_ids(&mut body, cursor);
        }
        if empty && self.has(Fault::DataNullWhenEmpty) {
            set_pointer(&mut body, &shape.data, Value::Null);
        }
        if self.has(Fault::HasMoreNull) {
            set_pointer(&mut body, &shape.has_more, Value::Null);
        }
        if self.has(Fault::EnvelopeObjectRenamed) {
            body["object"] = "page".into();
        }
        if self.has(Fault::MissingHasMore) {
            take_pointer(&mut body, &shape.has_more);
        }
        if self.has(Fault::MissingFirstLastId) {
            for pointer in ids.into_iter().flatten() {
                take_pointer(&mut body, pointer);
            }
        }
        if self.has(Fault::DataRenamed) {
            let data = take_pointer(&mut body, &shape.data).unwrap_or_default();
            let parent = shape.data.rsplit_once('/').map_or("", |(p, _)| p);
            set_pointer(&mut body, &format!("{parent}/items"), data);
        }
        if self.config.additive_fields {
            body["total_count"] = Value::Null;
        }
        body
    }

    fn limit(&self, request: &Request, raw: Option<&str>) -> Result<usize, Refusal> {
        let default = if self.has(Fault::DefaultLimitWrong) {
            WRONG_DEFAULT_LIMIT
        } else {
            self.config.default_limit as usize
        };
        let Some(raw) = raw.filter(|_| !self.has(Fault::LimitIgnored)) else {
            return Ok(default);
        };
        let invalid = |problem: LimitProblem, code: &str| {
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
            let message = self.limit_message(raw, problem);
            Box::new(self.error(400, &message, Some(&self.config.limit_param), Some(code)))
        };
        let Ok(n) = raw.parse::<i64>() else {
            if self.has(Fault::NonIntegerLimitAccepted) {
                return Ok(default);
            }
            return Err(invalid(LimitProblem::NotInteger, "invalid_type"));
        };
        if n < self.config.min_limit as i64 {
            if self.has(Fault::NonPositiveLimitAccepted) {
                return Ok(default);
            }
            return Err(invalid(
                LimitProblem::BelowMin(n),
                "integer_below_min_value",
            ));
        }
        if n as u64 > self.config.max_limit {
            if self.has(Fault::LimitAboveMaxClamped) {
                return Ok(self.config.max_limit as usize);
            }
            return Err(invalid(
                LimitProblem::AboveMax(n),
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

    /// A 429 for transient trouble, in the suite's error style.
    fn rate_limited(&self) -> ResponseTemplate {
        let response = match self.config.error_style {
            ErrorStyle::Openai => ResponseTemplate::new(429)
                .set_body_json(json!({"error": {"message": "Rate limit reached.",
                    "type": "requests", "param": null, "code": "rate_limit_exceeded"}})),
            ErrorStyle::Anthropic => self.error(429, "Rate limit reached.", None, None),
        };
        response.insert_header("retry-after", "0.05")
    }

    fn answer(&self, request: &Request) -> ResponseTemplate {
        let received = self.received.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(every) = self.config.transient_every.filter(|n| *n > 0)
            && received.is_multiple_of(every)
        {
            return if (received / every) % 2 == 1 {
                self.rate_limited()
            } else {
                ResponseTemplate::new(503).set_body_string("Service Unavailable")
            };
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
            let message = match self.config.error_style {
                ErrorStyle::Openai => "Incorrect API key provided.",
                ErrorStyle::Anthropic => "invalid x-api-key",
            };
            return self.error(status, message, None, Some("invalid_api_key"));
        }
        if !self.has(Fault::RequiredHeaderNotChecked)
            && let Some(name) = self
                .config
                .headers
                .keys()
                .find(|name| !request.headers.contains_key(name.as_str()))
        {
            return self.error(400, &format!("{name}: header is required"), None, None);
        }
        let query = Query(
            request
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        );
        let request_no = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let mut listing = self.listing.lock().unwrap_or_else(|e| e.into_inner());
        self.live_traffic(&mut listing, request_no);
        let result = self
            .limit(request, query.get(&self.config.limit_param))
            .and_then(|limit| self.page(&listing, limit, &query));
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

/// What is wrong with a `limit`.
#[derive(Debug, Clone, Copy)]
enum LimitProblem {
    NotInteger,
    BelowMin(i64),
    AboveMax(i64),
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
