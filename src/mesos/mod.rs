//! Apache Mesos: the master's state document ([`state`]), how the masters are reached ([`access`]: HTTPS,
//! credentials) and fetching the state from the leading master ([`fetch`]).

pub mod access;
pub mod fetch;
pub mod state;
