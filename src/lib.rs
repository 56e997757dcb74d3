//! Mesos-DNS: DNS-based service discovery for Apache Mesos.
//!
//! Data flows one way: the leading master's state JSON ([`mesos`]) becomes a list of named records
//! ([`snapshot::RecordList`], filled by the naming rules of [`records::generate`]), which is indexed into
//! a wire-ready, immutable snapshot ([`snapshot::Records`]); the refresher ([`refresh`]) swaps new
//! snapshots in, and the event loop ([`serve`]) answers queries from the current one through the pure
//! function [`answer::answer`].

#![warn(unreachable_pub)]

pub mod addr;
pub mod answer;
pub mod app;
pub(crate) mod base64;
pub mod cli;
pub(crate) mod clock;
pub mod config;
pub mod forward;
pub mod http;
pub mod logline;
pub mod mesos;
pub(crate) mod metrics;
pub(crate) mod random;
pub mod records;
pub(crate) mod refresh;
pub(crate) mod serve;
pub use serve::route;
pub mod snapshot;
pub mod transfer;
pub mod warm;
pub mod wire;
