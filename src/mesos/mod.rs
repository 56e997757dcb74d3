//! Apache Mesos: the master's state document ([`state`]), fetching it from the leading master ([`fetch`])
//! and finding that leader through ZooKeeper ([`zk`]).

pub mod fetch;
pub mod state;
pub mod zk;
