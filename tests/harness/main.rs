//! The harness's own integration tests, one test binary (built and linked once): a module per
//! area, `cargo test --test harness walk::` runs one of them, `cargo test openai_files` one
//! suite's share of all of them. The contract suite itself is the `contract` target.

mod benign;
mod catalogue;
mod cli;
mod common;
mod depth;
mod drift;
mod evidence;
mod findings;
mod first_run;
mod golden;
mod hostile_bounds;
mod hostile_leak;
mod openapi;
mod pace;
mod progress;
mod properties;
mod record_replay;
mod reports;
mod sdk;
mod serve;
mod standalone;
mod suite_mock;
mod suites;
mod transport;
mod walk;
