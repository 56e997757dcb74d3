//! Apache Mesos: the master's state document ([`state`]) and fetching it from the leading master ([`fetch`]).

pub mod fetch;
pub mod state;
