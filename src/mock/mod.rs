//! The reference mock: a server whose responder implements a suite's contract (its path, auth,
//! headers, limits, cursors, backward paging, order parameter, filters, envelope and error
//! style) over a deterministic dataset, with faults that can be switched on to make it drift.
//! Used when no `CONTRACT_BASE_URL` is set (on a server of its own, `server.rs`, that keeps
//! nothing of the requests it answers), by `serve`, and by the harness's own tests (on
//! wiremock, which records their requests for the tests to read).
//!
//! The dataset is the List Batches generator ([`dataset::generate`]) unless the suite names
//! example items (`[mock] examples = "examples.json"`): then [`examples::generate`] multiplies
//! them with fresh ids, order keys with ties, and the contract's filter values, so a suite
//! written as data alone gets a conforming mock.

mod answer;
mod budget;
mod config;
pub mod dataset;
mod drift;
pub mod examples;
pub mod fault;
mod paging;
pub mod probe;
mod responder;
mod server;
mod suite;
#[cfg(test)]
mod testing;

use std::sync::{Arc, Mutex};

use serde_json::Value;
use url::Url;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

pub use budget::{BudgetHeaders, BudgetStats, RateBudget, parse_budget, parse_per_minute};
pub use config::{DEFAULT_ITEMS, DEFAULT_KEY, DEFAULT_SEED, MockConfig};
pub use fault::{Family, Fault};
use responder::Responder;
pub use responder::parent_ids;
pub use suite::{ServedSuite, load_examples, served_suite};

/// What serves a mock's responder.
enum Server {
    /// wiremock, recording every request (for [`ReferenceMock::received`]) and taking
    /// preludes: a mock for tests.
    Wiremock(MockServer),
    /// The mock's own server, which keeps nothing of the requests it answers: `serve` and the
    /// embedded mock, which may answer any number of them.
    Own(server::OwnServer),
}

/// A running reference mock. The server stops when this is dropped.
pub struct ReferenceMock {
    server: Server,
    config: MockConfig,
    listing: Arc<Mutex<Vec<Value>>>,
}

impl ReferenceMock {
    /// Starts the mock on a free port of 127.0.0.1, recording the requests it receives (for
    /// [`ReferenceMock::received`]): a mock for tests.
    pub async fn start(config: MockConfig) -> Self {
        ReferenceMock::start_with(config, Vec::new()).await
    }

    /// Starts the mock with `preludes` mounted in front of the reference responder: wiremock
    /// mocks that answer first while they match (e.g. a 429 `up_to_n_times(1)`), for tests of
    /// transient trouble. It records the requests it receives.
    pub async fn start_with(config: MockConfig, preludes: Vec<Mock>) -> Self {
        let (config, listing, responder) = ReferenceMock::prepare(config);
        // A server of its own, never wiremock's pooled ones (`MockServer::start`): a pooled
        // server goes back to the pool when its `MockServer` is dropped and is handed to the
        // next test that starts one, while a client of this mock may still be talking to it.
        let server = MockServer::builder().start().await;
        for prelude in preludes {
            prelude.mount(&server).await;
        }
        Mock::given(any())
            .respond_with(responder)
            // Lowest priority: any prelude that matches answers first.
            .with_priority(u8::MAX)
            .mount(&server)
            .await;
        ReferenceMock {
            server: Server::Wiremock(server),
            config,
            listing,
        }
    }

    /// Starts the mock on a free port of 127.0.0.1, on its own server, which keeps nothing of
    /// the requests it answers: the embedded mock of a run.
    pub async fn start_embedded(config: MockConfig) -> Self {
        ReferenceMock::launch_own(config, None)
    }

    /// Starts the mock on `listener` (a socket the caller bound, e.g. to a chosen port), on its
    /// own server, which keeps nothing of the requests it answers: the standalone server of
    /// `list-contract serve`, which may run for days.
    pub async fn start_on(config: MockConfig, listener: std::net::TcpListener) -> Self {
        ReferenceMock::launch_own(config, Some(listener))
    }

    fn launch_own(config: MockConfig, listener: Option<std::net::TcpListener>) -> Self {
        let (config, listing, responder) = ReferenceMock::prepare(config);
        ReferenceMock {
            server: Server::Own(server::OwnServer::start(listener, responder)),
            config,
            listing,
        }
    }

    /// The listing `config` makes, and the responder that serves it.
    fn prepare(config: MockConfig) -> (MockConfig, Arc<Mutex<Vec<Value>>>, Responder) {
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
        let responder = Responder::new(config.clone(), Arc::clone(&listing));
        (config, listing, responder)
    }

    /// The base URL to give the harness (with the prefix, if any).
    pub fn base_url(&self) -> Url {
        let uri = match &self.server {
            Server::Wiremock(server) => server.uri(),
            Server::Own(server) => server.uri(),
        };
        let mut url = Url::parse(&uri).expect("the server gives a valid URI");
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

    /// How many requests it has answered so far (0 for a mock on its own server:
    /// [`ReferenceMock::start_embedded`], [`ReferenceMock::start_on`]).
    pub async fn request_count(&self) -> usize {
        self.received().await.len()
    }

    /// What its request budget saw (`MockConfig::rate_budget`), if it has one.
    pub fn budget_stats(&self) -> Option<BudgetStats> {
        self.config.rate_budget.as_ref().map(RateBudget::stats)
    }

    /// The requests it has answered so far (none for a mock on its own server).
    pub async fn received(&self) -> Vec<wiremock::Request> {
        match &self.server {
            Server::Wiremock(server) => server.received_requests().await.unwrap_or_default(),
            Server::Own(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::probe::Probe;
    use super::*;
    use crate::contract::CursorSource;
    use crate::mock::testing::fixture;

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
}
