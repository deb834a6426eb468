//! Talking to the endpoint: where requests go (`target.rs`), how transient trouble is retried
//! (`retry.rs`), how hard a live server is pressed (`gate.rs`), and the shared client that
//! sends them (`client.rs`). What it hands back is plain data ([`crate::exchange`]); masking lives in
//! [`crate::redact`], recording in [`crate::record`], answering from a recording in
//! [`crate::replay`].

mod breaker;
mod client;
mod gate;
mod retry;
mod target;

pub use breaker::{RUN_STOPPED, UNANSWERED_IN_A_ROW};
pub use client::{ClientError, ClientSettings, HttpClient, MAX_REDIRECTS, RedirectRefused};
pub use retry::{BACKOFF_CAP, RequestOptions, RetryPolicy, retry_after};
pub use target::{Target, WRONG_KEY, parse_base_url, parse_header};
