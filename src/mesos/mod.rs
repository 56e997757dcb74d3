//! Apache Mesos: the master's state document ([`state`]), how the masters are reached ([`access`]: HTTPS,
//! credentials; [`iam`]: DC/OS service-account logins; [`crypto`]: their TLS
//! provider; [`error`]: what goes wrong reaching them), finding the leading master among the configured ones ([`leader`]: the search as a pure state machine) and fetching its state
//! ([`fetch`]: the search's HTTP driver), or finding it through ZooKeeper ([`zk`]); the operator API's
//! event stream ([`operator`]).

pub(crate) mod access;
pub(crate) mod crypto;
pub(crate) mod error;
pub(crate) mod fetch;
pub(crate) mod iam;
pub(crate) mod leader;
pub(crate) mod operator;
pub(crate) mod state;
pub(crate) mod zk;
