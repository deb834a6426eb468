//! # list-contract
//!
//! A contract-conformance test harness for cursor-paginated list APIs. A suite is a folder of
//! data per endpoint (`cases/<suite>/`): a `contract.toml` with the endpoint's parameters
//! (cursor scheme, backward paging, `order`, filters, required headers, key kind), case files
//! and the example items its reference mock serves. Four ship: OpenAI's List Batches, Files
//! and Vector stores, and Anthropic's Message Batches.
//!
//! Declarative case files say what to request and what must hold: one page, a walk that
//! follows the cursor to the end, walks at several limits that must agree, a walk back to the
//! head, both orders of a listing, or a filtered walk against the unfiltered one. JSON Schemas
//! (`schemas/*.json`) describe the bodies; the runner checks a live endpoint
//! (`CONTRACT_BASE_URL`) or, when none is set, the embedded [reference mock](mock).
//!
//! The pipeline, one module each:
//!
//! ```text
//! case (load) → runner → http → exchange (plain data) → check (Violation*) → outcome → report
//! schema (compile once) ──────────────────────────────────────┘
//! ```
//!
//! A run can be recorded as HAR 1.2 ([`record`], `CONTRACT_RECORD`) and replayed offline
//! ([`replay`], `CONTRACT_REPLAY`): the HTTP layer answers from the recording and opens no
//! socket, so changed schemas and contract parameters re-judge the same responses.
//!
//! Run it as a test suite with `cargo test --test contract`, or embed it:
//!
//! ```no_run
//! use std::path::Path;
//! use list_contract::harness::run;
//! use list_contract::settings::Settings;
//!
//! let settings = Settings::from_env(Path::new(".")).expect("valid CONTRACT_* variables");
//! let code = run(&libtest_mimic::Arguments::from_args(), settings);
//! # let _ = code;
//! ```
#![forbid(unsafe_code)]

pub mod case;
pub mod check;
pub mod choice;
pub mod contract;
pub mod error;
pub mod exchange;
pub mod files;
pub mod harness;
pub mod http;
pub mod init;
pub mod mock;
#[cfg(test)]
mod module_graph;
pub mod openapi;
pub mod outcome;
pub mod record;
pub mod redact;
pub mod replay;
pub mod report;
pub mod runner;
pub mod schema;
pub mod settings;
pub mod violation;

pub use libtest_mimic;
