//! Apache Mesos: the master's state document ([`state`]), how the masters are reached ([`access`]: HTTPS,
//! credentials; [`iam`]: DC/OS service-account logins; [`base64`] for both), fetching the state from the leading master ([`fetch`]) and finding that leader through
//! ZooKeeper ([`zk`]); the operator API's event stream ([`operator`]).

pub mod access;
pub mod base64;
pub mod fetch;
pub mod iam;
pub mod operator;
pub mod state;
pub mod zk;
