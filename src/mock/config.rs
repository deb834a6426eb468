//! How to build a reference mock: its dataset, key, auth, contract parameters, faults and
//! benign variations, and the embedded mock's defaults.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::fault::Fault;
use crate::contract::{
    AuthStyle, Backward, Contract, CursorSource, Direction, EmptyPageIds, Envelope, ErrorStyle,
    Filter, KeyKind, OrderParam,
};

/// The key the embedded mock accepts when no other is configured.
pub const DEFAULT_KEY: &str = "lc-reference-mock-key";
/// Items in the embedded mock's listing: not a multiple of any usual limit.
pub const DEFAULT_ITEMS: usize = 257;
/// The embedded mock's dataset seed.
pub const DEFAULT_SEED: u64 = 20_251_124;

/// How to build a reference mock.
#[derive(Debug, Clone)]
pub struct MockConfig {
    pub items: usize,
    pub seed: u64,
    /// The key it accepts.
    pub key: String,
    pub auth: AuthStyle,
    /// A path prefix the endpoint sits under (e.g. `/gateway`), or empty.
    pub prefix: String,
    pub faults: Vec<Fault>,
    pub path: String,
    pub default_limit: u64,
    pub max_limit: u64,
    pub limit_param: String,
    /// The smallest limit accepted.
    pub min_limit: u64,
    pub cursor_param: String,
    /// Where clients take the next cursor from; with `Token`, pages carry an opaque token at
    /// `next_token` and the cursor parameter takes only such tokens.
    pub cursor_source: CursorSource,
    pub next_token: Option<String>,
    /// Backward paging, when the contract has it.
    pub backward: Option<Backward>,
    /// The direction when no order parameter is sent.
    pub order: Direction,
    pub order_param: Option<OrderParam>,
    pub order_key: String,
    pub order_key_kind: KeyKind,
    pub id_field: String,
    /// Where the page's parts go.
    pub envelope: Envelope,
    /// What `first_id`/`last_id` hold on an empty page: the contract's `empty_page_ids`, or
    /// another value to serve a server that differs from its contract.
    pub empty_page_ids: EmptyPageIds,
    /// The envelope's `object` value; empty: no `object` field.
    pub envelope_object: String,
    /// Headers every request must carry (only their presence is checked).
    pub headers: BTreeMap<String, String>,
    pub filters: Vec<Filter>,
    pub error_style: ErrorStyle,
    /// The prefix of made-up ids (examples dataset); unset: from each example's own id.
    pub id_prefix: Option<String>,
    /// The example items the dataset is made from; `None`: the List Batches generator.
    pub examples: Option<Arc<Vec<Value>>>,
    /// Benign: pages hold half the limit (rounded up) while `has_more` stays true, as the
    /// contract allows ("the API may return fewer batches than the specified limit").
    pub short_pages: bool,
    /// Benign: every batch has the same `created_at`; the order among them stays stable.
    pub all_tied: bool,
    /// Benign live traffic: every this many requests, a new batch appears at the head of the
    /// listing and another changes status.
    pub live_every: Option<usize>,
    /// Benign additive drift: fields the schema does not know on the envelope and on every
    /// item, and a response header clients have not seen.
    pub additive_fields: bool,
    /// Benign: every nullable field of every batch is `null` (recorded responses send unset
    /// values as `null`).
    pub all_nullable_null: bool,
    /// Benign transient trouble: every this many requests is answered 429 with a
    /// `Retry-After` of 0.05 s, or 503 with none, alternately.
    pub transient_every: Option<usize>,
    /// A nested list's path parameters: the mock serves each parent list (three parents) and
    /// the nested list under any of them.
    pub parents: Vec<crate::contract::Parent>,
    /// With `x-api-key` auth: the key is also accepted as `Authorization: Bearer KEY`, as
    /// Anthropic's API accepts it (the anthropic Python SDK 2.x sends its `api_key` so).
    /// `serve` turns it on unless `--auth` says otherwise; the embedded mocks keep to one header.
    pub bearer_too: bool,
    /// Print a line on stderr for each request answered (`serve --log-requests`): method, path,
    /// query, status and headers, credentials masked.
    pub log_requests: bool,
    /// A request budget enforced with 429s past it, and advertised in a provider's headers
    /// (`serve --budget 600/min[:anthropic|:ietf|:none]`).
    pub rate_budget: Option<super::budget::RateBudget>,
}

impl MockConfig {
    /// A conforming mock for `contract`, with the default dataset and key.
    pub fn for_contract(contract: &Contract) -> Self {
        MockConfig {
            items: DEFAULT_ITEMS,
            seed: DEFAULT_SEED,
            key: DEFAULT_KEY.to_owned(),
            auth: contract.auth,
            prefix: String::new(),
            faults: Vec::new(),
            path: contract.path.clone(),
            default_limit: contract.default_limit,
            max_limit: contract.max_limit,
            limit_param: contract.limit_param.clone(),
            min_limit: contract.min_limit,
            cursor_param: contract.cursor_param.clone(),
            cursor_source: contract.cursor_source,
            next_token: contract.next_token.clone(),
            backward: contract.backward.clone(),
            order: contract.order,
            order_param: contract.order_param.clone(),
            order_key: contract.order_key.clone(),
            order_key_kind: contract.order_key_kind,
            id_field: contract.id_field.clone(),
            envelope: contract.envelope.clone(),
            empty_page_ids: contract.empty_page_ids,
            envelope_object: contract.mock.envelope_object.clone(),
            headers: contract.headers.clone(),
            filters: contract.filters.clone(),
            parents: contract.parents.clone(),
            error_style: contract.mock.error_style,
            id_prefix: contract.mock.id_prefix.clone(),
            examples: None,
            short_pages: false,
            all_tied: false,
            live_every: None,
            additive_fields: false,
            all_nullable_null: false,
            transient_every: None,
            bearer_too: false,
            log_requests: false,
            rate_budget: None,
        }
    }

    /// Serves a dataset made from `examples` (see [`examples::generate`](super::examples::generate)) instead of batches.
    pub fn examples(mut self, examples: Vec<Value>) -> Self {
        self.examples = Some(Arc::new(examples));
        self
    }

    /// Prints each request it answers on stderr, credentials masked.
    pub fn log_requests(mut self) -> Self {
        self.log_requests = true;
        self
    }

    /// Accepts the key as `Authorization: Bearer KEY` as well as in the contract's header.
    pub fn bearer_too(mut self) -> Self {
        self.bearer_too = true;
        self
    }

    /// Serves `ids` as `first_id`/`last_id` on an empty page (`null`, `""`, or no such keys).
    pub fn empty_page_ids(mut self, ids: EmptyPageIds) -> Self {
        self.empty_page_ids = ids;
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub fn short_pages(mut self) -> Self {
        self.short_pages = true;
        self
    }

    pub fn all_tied(mut self) -> Self {
        self.all_tied = true;
        self
    }

    pub fn live_every(mut self, requests: usize) -> Self {
        self.live_every = Some(requests);
        self
    }

    pub fn additive_fields(mut self) -> Self {
        self.additive_fields = true;
        self
    }

    pub fn all_nullable_null(mut self) -> Self {
        self.all_nullable_null = true;
        self
    }

    pub fn transient_every(mut self, requests: usize) -> Self {
        self.transient_every = Some(requests);
        self
    }

    /// Enforces `per_minute` requests a minute, advertised in `headers` (a bucket of its own).
    pub fn rate_budget(mut self, per_minute: u32, headers: super::budget::BudgetHeaders) -> Self {
        self.rate_budget = Some(super::budget::RateBudget::new(per_minute, headers));
        self
    }

    pub fn items(mut self, items: usize) -> Self {
        self.items = items;
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    pub fn auth(mut self, auth: AuthStyle) -> Self {
        self.auth = auth;
        self
    }

    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }
}
