//! The reference mock: a wiremock server whose responder implements a suite's contract (its
//! path, auth, headers, limits, cursors, backward paging, order parameter, filters, envelope
//! and error style) over a deterministic dataset, with faults that can be switched on to make
//! it drift. Used when no `CONTRACT_BASE_URL` is set, and by the harness's own tests.
//!
//! The dataset is the List Batches generator ([`dataset::generate`]) unless the suite names
//! example items (`[mock] examples = "examples.json"`): then [`examples::generate`] multiplies
//! them with fresh ids, order keys with ties, and the contract's filter values, so a suite
//! written as data alone gets a conforming mock.

pub mod dataset;
pub mod examples;
mod responder;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use url::Url;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

use crate::contract::{
    AuthStyle, Backward, Contract, CursorSource, Direction, Envelope, ErrorStyle, Filter, KeyKind,
    OrderParam,
};
use responder::Responder;
pub use responder::{Family, Fault};

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
            envelope_object: contract.mock.envelope_object.clone(),
            headers: contract.headers.clone(),
            filters: contract.filters.clone(),
            error_style: contract.mock.error_style,
            id_prefix: contract.mock.id_prefix.clone(),
            examples: None,
            short_pages: false,
            all_tied: false,
            live_every: None,
            additive_fields: false,
            all_nullable_null: false,
            transient_every: None,
        }
    }

    /// Serves a dataset made from `examples` (see [`examples::generate`]) instead of batches.
    pub fn examples(mut self, examples: Vec<Value>) -> Self {
        self.examples = Some(Arc::new(examples));
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

/// A running reference mock. The server stops when this is dropped.
pub struct ReferenceMock {
    server: MockServer,
    config: MockConfig,
    listing: Arc<Mutex<Vec<Value>>>,
}

impl ReferenceMock {
    /// Starts the mock on a free port of 127.0.0.1.
    pub async fn start(config: MockConfig) -> Self {
        ReferenceMock::start_with(config, Vec::new()).await
    }

    /// Starts the mock with `preludes` mounted in front of the reference responder: wiremock
    /// mocks that answer first while they match (e.g. a 429 `up_to_n_times(1)`), for tests of
    /// transient trouble.
    pub async fn start_with(config: MockConfig, preludes: Vec<Mock>) -> Self {
        ReferenceMock::launch(config, preludes, None).await
    }

    /// Starts the mock on `listener` (a socket the caller bound, e.g. to a chosen port): the
    /// standalone server of `list-contract serve`.
    pub async fn start_on(config: MockConfig, listener: std::net::TcpListener) -> Self {
        ReferenceMock::launch(config, Vec::new(), Some(listener)).await
    }

    async fn launch(
        config: MockConfig,
        preludes: Vec<Mock>,
        listener: Option<std::net::TcpListener>,
    ) -> Self {
        let items = match &config.examples {
            Some(examples) => examples::listing(&config, examples),
            None => {
                let mut items = dataset::generate(config.items, config.seed);
                if config.all_tied {
                    for item in &mut items {
                        let created = item["created_at"].as_i64().unwrap_or(dataset::NEWEST);
                        dataset::shift_times(item, dataset::NEWEST - created);
                    }
                }
                if config.all_nullable_null {
                    for item in &mut items {
                        dataset::null_every_nullable(item);
                    }
                }
                items
            }
        };
        let listing = Arc::new(Mutex::new(items));
        let server = match listener {
            Some(listener) => MockServer::builder().listener(listener).start().await,
            None => MockServer::start().await,
        };
        for prelude in preludes {
            prelude.mount(&server).await;
        }
        Mock::given(any())
            .respond_with(Responder::new(config.clone(), Arc::clone(&listing)))
            // Lowest priority: any prelude that matches answers first.
            .with_priority(u8::MAX)
            .mount(&server)
            .await;
        ReferenceMock {
            server,
            config,
            listing,
        }
    }

    /// The base URL to give the harness (with the prefix, if any).
    pub fn base_url(&self) -> Url {
        let mut url = Url::parse(&self.server.uri()).expect("wiremock gives a valid URI");
        url.set_path(&self.config.prefix);
        url
    }

    pub fn config(&self) -> &MockConfig {
        &self.config
    }

    /// The listing it serves now, newest first (whatever the contract's default order).
    pub fn items(&self) -> Vec<Value> {
        self.listing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many requests it has answered so far.
    pub async fn request_count(&self) -> usize {
        self.received().await.len()
    }

    /// The requests it has answered so far.
    pub async fn received(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap_or_default()
    }
}

/// The example items of `contract`'s suite, read from the file `[mock] examples` names beside
/// `contract_path`; `None` when it names none (the List Batches generator serves). The error
/// names the file and says what is wrong with it.
pub fn load_examples(
    contract_path: &Path,
    contract: &Contract,
) -> Result<Option<Vec<Value>>, String> {
    let Some(name) = &contract.mock.examples else {
        return Ok(None);
    };
    let path = contract_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(name);
    let shown = path.display();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read the mock's examples {shown}: {e} (named by `[mock] examples` in {})",
            contract_path.display()
        )
    })?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("the mock's examples {shown} are not JSON: {e}"))?;
    let Value::Array(items) = value else {
        return Err(format!(
            "the mock's examples {shown} must hold a non-empty array of objects (found {})",
            kind_of(&value)
        ));
    };
    if items.is_empty() {
        return Err(format!(
            "the mock's examples {shown} must hold a non-empty array of objects (the array is empty)"
        ));
    }
    if let Some((i, item)) = items.iter().enumerate().find(|(_, v)| !v.is_object()) {
        return Err(format!(
            "the mock's examples {shown} must hold a non-empty array of objects (item {i} is {})",
            kind_of(item)
        ));
    }
    Ok(Some(items))
}

/// A JSON value's kind, for messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
