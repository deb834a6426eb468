//! # list-contract
//!
//! A contract-conformance test harness for paginated list APIs. Its first contract is the
//! OpenAI-compatible List Batches endpoint, `GET /v1/batches?limit=N&after=CURSOR`.
//!
//! Declarative case files (`cases/<suite>/*.toml`) say what to request and what must hold:
//! one page, a walk that follows the cursor to the end, or walks at several limits that must
//! agree. JSON Schemas (`schemas/*.json`) describe the bodies; the runner checks a live
//! endpoint (`CONTRACT_BASE_URL`) or, when none is set, the embedded [reference mock](mock).
//!
//! The pipeline, one module each:
//!
//! ```text
//! case (load) → runner → http (Exchange) → check (Violation*) → report
//! schema (compile once) ─────────────────────┘
//! ```
//!
//! Run it as a test suite with `cargo test --test contract`, or embed it:
//!
//! ```no_run
//! use std::path::Path;
//! use list_contract::harness::{Settings, run};
//!
//! let settings = Settings::from_env(Path::new(".")).expect("valid CONTRACT_* variables");
//! let code = run(&libtest_mimic::Arguments::from_args(), settings);
//! # let _ = code;
//! ```
#![forbid(unsafe_code)]

pub mod case;
pub mod check;
pub mod contract;
pub mod exchange;
pub mod harness;
pub mod http;
pub mod mock;
pub mod outcome;
pub mod redact;
pub mod report;
pub mod runner;
pub mod schema;
pub mod violation;

pub use libtest_mimic;
