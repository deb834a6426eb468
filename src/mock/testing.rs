//! What the mock's unit tests share: the List Batches contract, a responder over a small
//! listing, and requests built without a server.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::MockConfig;
use super::responder::{Query, Responder};
use crate::contract::Contract;

/// The built-in List Batches contract.
pub(super) fn list_batches() -> Contract {
    crate::case::parse_file(Path::new("built-in:cases/list_batches/contract.toml"))
        .expect("the built-in contract parses")
}

/// The contract of the fixture suite `name` (tests/fixtures/mock), and its path.
pub(super) fn fixture(name: &str) -> (Contract, PathBuf) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mock")
        .join(name)
        .join("contract.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    (toml::from_str(&text).unwrap(), path)
}

/// A conforming mock config of List Batches with `items` batches.
pub(super) fn config(items: usize) -> MockConfig {
    MockConfig::for_contract(&list_batches()).items(items)
}

/// A responder over the List Batches dataset `config` makes, and that listing.
pub(super) fn responder(config: MockConfig) -> (Responder, Vec<Value>) {
    let items = super::dataset::generate(config.items, config.seed);
    let listing = Arc::new(Mutex::new(items.clone()));
    (Responder::new(config, listing), items)
}

/// A query of `pairs`.
pub(super) fn query(pairs: &[(&str, &str)]) -> Query {
    Query(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

/// A `GET` of `path_and_query` with `headers`, as wiremock hands it to a responder.
pub(super) fn request(path_and_query: &str, headers: &[(&'static str, &str)]) -> wiremock::Request {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, value.parse().expect("a header value"));
    }
    wiremock::Request {
        url: url::Url::parse(&format!("http://127.0.0.1{path_and_query}")).expect("a URL"),
        method: http::Method::GET,
        headers: map,
        body: Vec::new(),
    }
}

/// The ids of `items`, in order.
pub(super) fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().expect("an id").to_owned())
        .collect()
}
