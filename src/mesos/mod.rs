//! Apache Mesos: the master's state document ([`state`]), how the masters are reached ([`access`]: HTTPS,
//! credentials), fetching the state from the leading master ([`fetch`]) and finding that leader through
//! ZooKeeper ([`zk`]).

pub mod access;
pub mod fetch;
pub mod state;
pub mod zk;
