//! Mesos-DNS: DNS-based service discovery for Apache Mesos.
//!
//! Data flows one way: the leading master's state JSON (`mesos`) becomes a list of named records
//! (`snapshot::RecordList`, filled by the naming rules of `records::generate`), which is indexed into a
//! wire-ready, immutable snapshot (`snapshot::Records`); the refresher (`refresh`) swaps new snapshots
//! in, and the event loop (`serve`) answers queries from the current one through the pure function
//! `answer::answer`.
//!
//! Every module is private. The crate's surface is what the binary needs: [`parse_args`] and
//! [`expand_home`] for the command line, [`write_utc`] and [`Tee`] for the log, [`start`] and
//! [`check_config`]. The benches, fuzz targets and integration tests reach further through the hidden
//! `internals` module, compiled only with the `internals` feature (never in the shipped binary).

#![warn(missing_docs, unreachable_pub)]
// Without the `internals` feature the hooks' items (`src/internals.rs`) are `pub` but unreachable; the
// lint is enforced where the whole surface is visible (tests, benches, `clippy --all-targets`).
#![cfg_attr(not(feature = "internals"), allow(unreachable_pub))]

mod addr;
mod answer;
mod app;
mod base64;
mod cli;
mod clock;
mod config;
mod forward;
mod http;
mod logline;
mod mesos;
mod metrics;
mod random;
mod records;
mod refresh;
mod serve;
mod snapshot;
mod sockopt;
mod transfer;
mod warm;
mod wire;

// The binary's surface: the command line, logging's line format, and the server.
pub use app::{check_config, start};
pub use cli::{expand_home, parse_args, Args, CliError, Severity};
pub use logline::{write_utc, Tee};

#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals;
