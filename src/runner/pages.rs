//! First pages, shared: a request with no cursor (a page case, or the first page of a walk)
//! is sent once per run and its answer handed to every case that sends the very same
//! request, so the page cases cost nothing beside the walks that start with them.
//!
//! Only cursor-less requests are kept: there are a handful per run, while a walk's later
//! pages are each needed once and are not worth holding. And only successful answers are
//! shared: a failure (a timeout, a 5xx, retries run out) stays the case's own, and the next
//! case sends the request again, so one flaky response never fails two cases.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;
use tokio::sync::OnceCell;
use url::Url;

use crate::exchange::{Exchange, TransportError};
use crate::http::{HttpClient, RequestOptions};

/// A request's answer, or why there was none, and when it was asked.
#[derive(Debug)]
pub struct Fetched {
    /// Unique in the process: the answer's identity, which the violations found on it carry,
    /// so that a finding counts an answer two cases used once.
    pub id: u64,
    pub result: Result<Exchange, Box<TransportError>>,
    /// When the request was sent, in Unix seconds.
    pub sent_at: i64,
    /// Its attempts in the run's recording (`CONTRACT_RECORD`), if the run is recorded.
    pub entries: Vec<usize>,
}

impl Fetched {
    /// Requests sent for it, retries included.
    pub fn attempts(&self) -> u32 {
        match &self.result {
            Ok(exchange) => exchange.attempts(),
            Err(e) => e.retries.len() as u32 + 1,
        }
    }
}

/// The first pages answered so far in a run.
#[derive(Default)]
pub struct PageCache {
    pages: Mutex<HashMap<PageKey, Arc<OnceCell<Arc<Fetched>>>>>,
}

// The keys hold request headers, credentials included: never print them.
impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pages = self.pages.lock().map_or(0, |p| p.len());
        f.debug_struct("PageCache").field("pages", &pages).finish()
    }
}

/// Everything that makes two requests the same.
#[derive(PartialEq, Eq, Hash)]
struct PageKey {
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    options: RequestOptions,
}

impl PageCache {
    /// The answer to `GET url`: sent now, or `shareable` and taken from a case that got a
    /// successful answer to the same request already (or is sending it: this waits). The
    /// flag says whether this call sent it.
    pub async fn get(
        &self,
        http: &HttpClient,
        url: Url,
        headers: HeaderMap,
        options: &RequestOptions,
        shareable: bool,
    ) -> (Arc<Fetched>, bool) {
        if !shareable {
            return (Arc::new(fetch(http, url, headers, options).await), true);
        }
        let key = PageKey {
            url: url.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_owned()))
                .collect(),
            options: options.clone(),
        };
        let cell = {
            let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(pages.entry(key).or_default())
        };
        let mut sent = false;
        // A failure is handed back as the error, so it is not kept.
        let shared = cell
            .get_or_try_init(|| {
                sent = true;
                async move {
                    let fetched = Arc::new(fetch(http, url, headers, options).await);
                    match &fetched.result {
                        Ok(exchange) if exchange.status.is_success() => Ok(fetched),
                        _ => Err(fetched),
                    }
                }
            })
            .await;
        match shared {
            Ok(fetched) => (Arc::clone(fetched), sent),
            Err(fetched) => (fetched, true),
        }
    }
}

async fn fetch(
    http: &HttpClient,
    url: Url,
    headers: HeaderMap,
    options: &RequestOptions,
) -> Fetched {
    let sent = http.send(url, headers, options).await;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    Fetched {
        id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        result: sent.result,
        sent_at: sent.sent_at,
        entries: sent.entries,
    }
}
