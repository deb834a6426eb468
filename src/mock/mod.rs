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
mod drift;
pub mod examples;
pub mod fault;
mod paging;
mod responder;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use url::Url;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

use crate::contract::{
    AuthStyle, Backward, Contract, CursorSource, Direction, Envelope, ErrorStyle, Filter, KeyKind,
    OrderParam,
};
pub use fault::{Family, Fault};
use responder::Responder;

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

    /// Deletes the item with `id` from the listing (another job deleting a batch during a
    /// run); says whether there was one.
    pub fn remove(&self, id: &str) -> bool {
        let mut listing = self.listing.lock().unwrap_or_else(|e| e.into_inner());
        let id_field = &self.config.id_field;
        let before = listing.len();
        listing.retain(|item| item.get(id_field).and_then(Value::as_str) != Some(id));
        listing.len() < before
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

/// What `list-contract serve` serves.
#[derive(Debug, Clone)]
pub struct ServedSuite {
    /// The suite's name (or the contract file), for the startup line.
    pub name: String,
    pub contract: Contract,
    /// The examples its `[mock]` names, read beside its `contract.toml`.
    pub examples: Option<Vec<Value>>,
}

/// The suite `serve` is asked for: `suite` by name (`<cases>/NAME/contract.toml`, where
/// `cases` defaults to `$CONTRACT_CASES_DIR`, else `./cases`, else the built-in suites), or
/// `contract_file`, or, with neither, the built-in List Batches suite.
pub fn served_suite(
    suite: Option<&str>,
    contract_file: Option<&Path>,
    cases: Option<&Path>,
) -> Result<ServedSuite, String> {
    let file = match (contract_file, suite) {
        (Some(_), Some(_)) => return Err("serve: give --suite or --contract, not both".into()),
        (Some(file), None) => file.to_owned(),
        (None, suite) => {
            let name = suite.unwrap_or("list_batches");
            let given = cases
                .map(Path::to_owned)
                .or_else(|| std::env::var_os("CONTRACT_CASES_DIR").map(Into::into));
            // No folder given: `./cases`, then the built-in suites; no suite: the built-in one.
            let folders = match (&given, suite) {
                (Some(dir), _) => vec![dir.clone()],
                (None, Some(_)) => vec!["cases".into(), crate::files::BUILT_IN_CASES.into()],
                (None, None) => vec![crate::files::BUILT_IN_CASES.into()],
            };
            let candidates: Vec<PathBuf> = folders
                .iter()
                .map(|dir| dir.join(name).join(crate::case::CONTRACT_FILE))
                .collect();
            match candidates
                .iter()
                .find(|file| crate::files::read_to_string(file).is_ok())
            {
                Some(file) => file.clone(),
                None => {
                    return Err(format!(
                        "--suite {name}: no {} (a suite is a folder of --cases DIR, $CONTRACT_CASES_DIR or ./cases; `list-contract suites` lists the built-in ones)",
                        candidates[0].display()
                    ));
                }
            }
        }
    };
    let contract: Contract = crate::case::parse_file(&file).map_err(|e| e.to_string())?;
    let examples = load_examples(&file, &contract)?;
    Ok(ServedSuite {
        name: suite.map_or_else(
            || {
                if contract_file.is_some() {
                    file.display().to_string()
                } else {
                    "list_batches".to_owned()
                }
            },
            str::to_owned,
        ),
        contract,
        examples,
    })
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
    let text = crate::files::read_to_string(&path).map_err(|e| {
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

/// Requests against a running mock, with the key and the headers its contract wants: a small
/// client for tests of the mock itself (it panics on what it cannot use).
pub mod probe {
    use serde_json::Value;

    use super::ReferenceMock;
    use crate::contract::AuthStyle;

    /// A client of one mock.
    pub struct Probe {
        http: reqwest::Client,
        url: String,
        key: String,
        auth: AuthStyle,
        headers: Vec<(String, String)>,
        cursor: String,
        id: String,
    }

    impl Probe {
        pub fn new(mock: &ReferenceMock) -> Self {
            let config = mock.config();
            // reqwest is built without a crypto provider; the harness's client installs ring.
            let _ = rustls::crypto::ring::default_provider().install_default();
            Probe {
                http: reqwest::Client::new(),
                url: format!(
                    "{}{}",
                    mock.base_url().as_str().trim_end_matches('/'),
                    config.path
                ),
                key: config.key.clone(),
                auth: config.auth,
                headers: config
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                cursor: config.cursor_param.clone(),
                id: config.id_field.clone(),
            }
        }

        /// The same client with another key.
        pub fn key(mut self, key: &str) -> Self {
            self.key = key.to_owned();
            self
        }

        /// `GET ?query` with the key and the required headers but those named in `omit`: the
        /// status, the `Content-Type` and the body as sent.
        pub async fn send(&self, query: &str, omit: &[&str]) -> (u16, Option<String>, Vec<u8>) {
            let mut request = self.http.get(format!("{}?{query}", self.url));
            if !omit.contains(&"key") {
                request = match self.auth {
                    AuthStyle::XApiKey => request.header("x-api-key", &self.key),
                    AuthStyle::Bearer => request.bearer_auth(&self.key),
                };
            }
            for (name, value) in &self.headers {
                if !omit.contains(&name.as_str()) {
                    request = request.header(name, value);
                }
            }
            let response = request.send().await.expect("the mock answers");
            let status = response.status().as_u16();
            let mime = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = response.bytes().await.expect("a body");
            (status, mime, bytes.to_vec())
        }

        /// `GET ?query` with the key and the required headers but those named in `omit`; the
        /// body as JSON (`null` when it is none).
        pub async fn get_omitting(&self, query: &str, omit: &[&str]) -> (u16, Value) {
            let (status, _, bytes) = self.send(query, omit).await;
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )
        }

        pub async fn get(&self, query: &str) -> (u16, Value) {
            self.get_omitting(query, &[]).await
        }

        /// A page's ids, in order.
        pub fn ids(&self, page: &Value) -> Vec<String> {
            page["data"]
                .as_array()
                .expect("a page")
                .iter()
                .map(|item| item[&self.id].as_str().expect("an id").to_owned())
                .collect()
        }

        /// Walks forward from `query` (which may be empty), taking the next cursor with `next`
        /// from each page while `has_more` is true; every id seen, and the pages.
        pub async fn walk(
            &self,
            query: &str,
            next: impl Fn(&Value) -> Option<String>,
        ) -> (Vec<String>, usize) {
            let mut ids = Vec::new();
            let mut pages = 0;
            let mut cursor: Option<String> = None;
            loop {
                let q = match &cursor {
                    Some(c) => format!("{query}&{}={c}", self.cursor),
                    None => query.to_owned(),
                };
                let (status, page) = self.get(&q).await;
                assert_eq!(status, 200, "{q}: {page}");
                pages += 1;
                assert!(pages < 2_000, "the walk does not end");
                ids.extend(self.ids(&page));
                if page["has_more"] != true {
                    return (ids, pages);
                }
                cursor = Some(next(&page).expect("a next cursor"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::Value;

    use super::probe::Probe;
    use super::*;
    use crate::contract::CursorSource;

    fn fixture(name: &str) -> (Contract, PathBuf) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/mock")
            .join(name)
            .join("contract.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        (toml::from_str(&text).unwrap(), path)
    }

    /// The fixture's mock config, with its examples.
    fn config(name: &str) -> MockConfig {
        let (contract, path) = fixture(name);
        let examples = load_examples(&path, &contract).unwrap().unwrap();
        MockConfig::for_contract(&contract).examples(examples)
    }

    fn ids_of(items: &[Value]) -> Vec<String> {
        items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    }

    fn last_id(page: &Value) -> Option<String> {
        page["last_id"].as_str().map(str::to_owned)
    }

    fn last_item(page: &Value) -> Option<String> {
        page["data"].as_array()?.last()?["id"]
            .as_str()
            .map(str::to_owned)
    }

    #[tokio::test]
    async fn anthropic_like_suite_pages_both_ways_with_its_header_and_errors() {
        let mock = ReferenceMock::start(config("anthropic")).await;
        let probe = Probe::new(&mock);
        let listing = ids_of(&mock.items());
        assert_eq!(listing.len(), DEFAULT_ITEMS);
        assert!(listing.iter().all(|id| id.starts_with("msgbatch_")));

        // The required header, the key and the limits, refused in Anthropic's envelope.
        let (status, body) = probe.get_omitting("limit=1", &["anthropic-version"]).await;
        assert_eq!(status, 400);
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(
            body["error"]["message"],
            "anthropic-version: header is required"
        );
        assert!(body["request_id"].as_str().unwrap().starts_with("req_"));
        let (status, body) = probe.get_omitting("limit=1", &["key"]).await;
        assert_eq!(
            (status, &body["error"]["type"]),
            (401, &"authentication_error".into())
        );
        for limit in ["0", "1001", "x"] {
            let (status, body) = probe.get(&format!("limit={limit}")).await;
            assert_eq!(status, 400, "limit={limit}");
            assert_eq!(body["error"]["type"], "invalid_request_error");
        }
        let (status, body) = probe.get("after_id=msgbatch_nope").await;
        assert_eq!(
            (status, &body["error"]["type"]),
            (404, &"not_found_error".into())
        );
        let (status, _) = probe
            .get(&format!("after_id={0}&before_id={0}", listing[3]))
            .await;
        assert_eq!(status, 400, "both cursors");

        // A page: no `object`, RFC 3339 keys newest first, with ties as equal strings.
        let (status, page) = probe.get("limit=1000").await;
        assert_eq!(status, 200);
        assert!(page.get("object").is_none(), "{page}");
        assert_eq!(probe.ids(&page), listing);
        let keys: Vec<&str> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["created_at"].as_str().unwrap())
            .collect();
        assert!(
            keys.iter().all(|k| k.len() == 27 && k.ends_with('Z')),
            "{keys:?}"
        );
        let instants: Vec<i64> = keys
            .iter()
            .map(|k| {
                chrono::DateTime::parse_from_rfc3339(k)
                    .unwrap()
                    .timestamp_micros()
            })
            .collect();
        assert!(instants.windows(2).all(|w| w[0] >= w[1]));
        assert!(keys.windows(2).any(|w| w[0] == w[1]), "ties");
        // The example's other times moved with it: a day to expiry, as in the example.
        let first = &page["data"][0];
        let at =
            |f: &str| chrono::DateTime::parse_from_rfc3339(first[f].as_str().unwrap()).unwrap();
        assert_eq!((at("expires_at") - at("created_at")).num_hours(), 24);

        // Forward by last_id, at limit 7.
        let (ids, pages) = probe.walk("limit=7", last_id).await;
        assert_eq!(ids, listing);
        assert_eq!(pages, DEFAULT_ITEMS.div_ceil(7));

        // Backward from the last page with before_id = first_id, each page in list order.
        let (_, last_page) = probe
            .get(&format!("limit=7&after_id={}", listing[DEFAULT_ITEMS - 8]))
            .await;
        assert_eq!(probe.ids(&last_page), listing[DEFAULT_ITEMS - 7..]);
        let mut cursor = last_page["first_id"].as_str().unwrap().to_owned();
        let mut back: Vec<Vec<String>> = Vec::new();
        loop {
            let (status, page) = probe.get(&format!("limit=7&before_id={cursor}")).await;
            assert_eq!(status, 200, "{page}");
            let ids = probe.ids(&page);
            assert_eq!(page["first_id"], ids[0].as_str());
            assert_eq!(page["last_id"], ids[ids.len() - 1].as_str());
            back.push(ids);
            if page["has_more"] != true {
                break;
            }
            cursor = page["first_id"].as_str().unwrap().to_owned();
        }
        let walked: Vec<String> = back.into_iter().rev().flatten().collect();
        assert_eq!(walked, listing[..DEFAULT_ITEMS - 7]);
        // The page before the head is empty.
        let (_, head) = probe
            .get(&format!("limit=7&before_id={}", listing[0]))
            .await;
        assert_eq!(head["data"], serde_json::json!([]));
        assert_eq!(
            (&head["has_more"], &head["first_id"]),
            (&false.into(), &Value::Null)
        );
        // Round trip: after X, then before that page's first id, ends with X.
        let x = &listing[40];
        let (_, q) = probe.get(&format!("limit=7&after_id={x}")).await;
        let (_, r) = probe
            .get(&format!(
                "limit=7&before_id={}",
                q["first_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(probe.ids(&r), listing[34..41]);
    }

    #[tokio::test]
    async fn files_like_suite_orders_filters_and_defaults_to_ten_thousand() {
        let mock = ReferenceMock::start(config("files")).await;
        let probe = Probe::new(&mock);
        let items = mock.items();
        let listing = ids_of(&items);
        assert!(listing.iter().all(|id| id.starts_with("file-")));

        let (status, page) = probe.get("").await;
        assert_eq!(status, 200);
        assert_eq!(page["object"], "list");
        assert_eq!(page["has_more"], false);
        assert_eq!(probe.ids(&page), listing, "one page of every item");
        let (_, asc) = probe.get("order=asc").await;
        let reversed: Vec<String> = listing.iter().rev().cloned().collect();
        assert_eq!(probe.ids(&asc), reversed, "asc is desc reversed, ties too");
        let (_, desc) = probe.get("order=desc").await;
        assert_eq!(probe.ids(&desc), listing);
        let (status, body) = probe.get("order=sideways").await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["param"], "order");
        assert_eq!(probe.walk("limit=7&order=asc", last_item).await.0, reversed);
        assert_eq!(probe.walk("limit=7", last_item).await.0, listing);

        // Filters: exactly the matching items, in order, in both directions and across pages.
        let batch: Vec<String> = items
            .iter()
            .filter(|i| i["purpose"] == "batch")
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(batch.len(), DEFAULT_ITEMS.div_ceil(3));
        let (_, filtered) = probe.get("purpose=batch").await;
        assert_eq!(probe.ids(&filtered), batch);
        assert_eq!(
            probe.walk("limit=7&purpose=batch", last_item).await.0,
            batch
        );
        let batch_asc: Vec<String> = batch.iter().rev().cloned().collect();
        let walked = probe
            .walk("limit=5&purpose=batch&order=asc", last_item)
            .await
            .0;
        assert_eq!(walked, batch_asc);
        let (status, none) = probe.get("purpose=nothing").await;
        assert_eq!(status, 200);
        assert_eq!(
            (&none["data"], &none["has_more"]),
            (&serde_json::json!([]), &false.into())
        );
        assert_eq!(none["first_id"], Value::Null);

        // Items keep their example's fields and move their times along.
        let first = &items[0];
        assert_eq!(first["object"], "file");
        assert_eq!(
            first["expires_at"].as_i64().unwrap() - first["created_at"].as_i64().unwrap(),
            1_614_282_185 - 1_613_677_385
        );
        let (status, body) = probe.get("limit=0").await;
        assert_eq!(status, 400);
        assert_eq!(
            body["error"]["message"],
            "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead."
        );
    }

    /// The files fixture with an opaque next-page token at `/next`.
    fn token_config() -> MockConfig {
        let mut config = config("files");
        config.cursor_source = CursorSource::Token;
        config.next_token = Some("/next".into());
        config
    }

    fn next_token(page: &Value) -> Option<String> {
        page["next"].as_str().map(str::to_owned)
    }

    #[tokio::test]
    async fn token_cursors_walk_the_listing_and_unknown_tokens_are_refused() {
        let mock = ReferenceMock::start(token_config()).await;
        let probe = Probe::new(&mock);
        let listing = ids_of(&mock.items());
        assert_eq!(probe.walk("limit=9", next_token).await.0, listing);
        let (_, last) = probe.get("limit=300").await;
        assert_eq!(last["next"], Value::Null, "no token on the last page");
        let (status, _) = probe.get(&format!("after={}", listing[3])).await;
        assert_eq!(status, 400, "an id is no token");
        let (status, _) = probe
            .get(&format!("after=pt1{}", "66696c652d6e6f6e65"))
            .await;
        assert_eq!(status, 404, "a token of an unknown item");

        let mock = ReferenceMock::start(token_config().fault(Fault::CursorTokenReused)).await;
        let probe = Probe::new(&mock);
        let (_, one) = probe.get("limit=9").await;
        let token = next_token(&one).unwrap();
        let (_, two) = probe.get(&format!("limit=9&after={token}")).await;
        assert_eq!(
            next_token(&two),
            Some(token),
            "page 2 hands out page 1's token"
        );
    }

    #[tokio::test]
    async fn benign_options_work_on_an_examples_suite() {
        let mock = ReferenceMock::start(
            config("anthropic")
                .items(60)
                .all_tied()
                .all_nullable_null()
                .short_pages()
                .additive_fields()
                .live_every(4),
        )
        .await;
        let items = mock.items();
        assert!(
            items
                .iter()
                .all(|i| i["created_at"] == items[0]["created_at"])
        );
        assert!(
            items
                .iter()
                .all(|i| i["ended_at"].is_null() && i["results_url"].is_null())
        );
        let probe = Probe::new(&mock);
        let (_, page) = probe.get("limit=7").await;
        assert_eq!(page["data"].as_array().unwrap().len(), 4, "short pages");
        assert_eq!(page["data"][0]["priority"], "standard");
        let (ids, _) = probe.walk("limit=7", last_id).await;
        assert!(ids.len() >= 60);
        assert!(mock.items().len() > 60, "live items at the head");
        assert!(
            mock.items()[0]["id"]
                .as_str()
                .unwrap()
                .starts_with("msgbatch_live")
        );
    }

    #[tokio::test]
    async fn backward_and_filter_faults_show_on_the_wire() {
        let listing = |mock: &ReferenceMock| ids_of(&mock.items());
        let mock =
            ReferenceMock::start(config("anthropic").fault(Fault::BackwardPageReversed)).await;
        let ids = listing(&mock);
        let (_, page) = Probe::new(&mock)
            .get(&format!("limit=7&before_id={}", ids[14]))
            .await;
        let reversed: Vec<String> = ids[7..14].iter().rev().cloned().collect();
        assert_eq!(Probe::new(&mock).ids(&page), reversed);

        let mock = ReferenceMock::start(config("files").fault(Fault::FilterLeaksOne)).await;
        let probe = Probe::new(&mock);
        let (_, one) = probe.get("limit=7&purpose=batch").await;
        assert!(
            one["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["purpose"] == "batch")
        );
        let (_, two) = probe
            .get(&format!(
                "limit=7&purpose=batch&after={}",
                last_item(&one).unwrap()
            ))
            .await;
        assert_ne!(two["data"][1]["purpose"], "batch", "the leak is on page 2");
    }

    #[test]
    fn examples_that_cannot_be_used_are_named_with_what_is_wrong() {
        let (contract, _) = fixture("files");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contract.toml");
        let err = load_examples(&path, &contract).unwrap_err();
        assert!(
            err.contains("cannot read") && err.contains("examples.json"),
            "{err}"
        );
        for (text, says) in [
            ("{", "not JSON"),
            ("{}", "found an object"),
            ("[]", "the array is empty"),
            ("[{}, 3]", "item 1 is a number"),
        ] {
            std::fs::write(dir.path().join("examples.json"), text).unwrap();
            let err = load_examples(&path, &contract).unwrap_err();
            assert!(
                err.contains(says) && err.contains("examples.json"),
                "{text}: {err}"
            );
        }
        let mut none = contract.clone();
        none.mock.examples = None;
        assert_eq!(load_examples(&path, &none), Ok(None));
    }
}
