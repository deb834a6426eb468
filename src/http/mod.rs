//! Talking to the endpoint: where requests go (`target.rs`), how transient trouble is retried
//! (`retry.rs`), how hard a live server is pressed (`gate.rs`, paced by the budget it advertises:
//! `ratelimit.rs`), and the shared client that
//! sends them (`client.rs`). What it hands back is plain data ([`crate::exchange`]); masking lives in
//! [`crate::redact`], recording in [`crate::record`], answering from a recording in
//! [`crate::replay`].

mod breaker;
mod client;
mod gate;
mod ratelimit;
mod retry;
mod target;

pub use breaker::{RUN_STOPPED, UNANSWERED_IN_A_ROW};
pub use client::{ClientError, ClientSettings, HttpClient, MAX_REDIRECTS, RedirectRefused};
pub use gate::{Pace, PaceSource, ServerBudget};
pub use ratelimit::{Advice, BUDGET_SHARE, Budget, Dialect, MAX_HOLD, MAX_SERVER_RATE};
pub use retry::{BACKOFF_CAP, RequestOptions, RetryPolicy, retry_after};
pub use target::{Target, WRONG_KEY, parse_base_url, parse_header};
