//! Requests against a running mock, with the key and the headers its contract wants: a small
//! client for tests of the mock itself (it panics on what it cannot use).

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
