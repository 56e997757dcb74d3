//! Entry points for the crate's own benches, fuzz targets and integration tests, and for nothing else:
//! compiled only with the `internals` feature, which `fuzz/Cargo.toml` and the crate's self
//! dev-dependency turn on and the shipped binary never does. The paths mirror the private modules
//! (`internals::wire::Message` is `crate::wire::Message`), so a hook reads like the code it drives.
//! Nothing here is a stable interface.

/// Host and port pairs (`HostPort`): the masters a snapshot names.
pub mod addr {
    pub use crate::addr::HostPort;
}

/// The pure answer function and its error replies.
pub mod answer {
    pub use crate::answer::{answer, answer_from, answer_message, error_reply, formerr, Outcome, Transport};
}

/// The configuration as loaded.
pub mod config {
    pub use crate::config::{Config, Overrides};
}

/// The relay: resolver lists, the answer cache, the relay table and the upstream answer check.
pub mod forward {
    pub use crate::forward::{
        client_udp_limit, parse_resolv_conf, verify, Accepted, CacheConfig, Client, SecureRandom, Upstreams,
    };

    /// The relay's answer cache.
    pub mod cache {
        pub use crate::forward::cache::{Cache, CacheConfig, Lookup};
    }

    /// The sans-I/O relay table.
    pub mod table {
        pub use crate::forward::table::{Io, Table};
    }
}

/// The HTTP API's connection reader and router.
pub mod http {
    pub use crate::http::{route, ApiContext, Response};

    /// One HTTP connection's request reader.
    pub mod conn {
        pub use crate::http::conn::{HttpConn, Progress};
    }
}

/// The state document and the ZooKeeper client.
pub mod mesos {
    /// The state document's parsers.
    pub mod state {
        pub use crate::mesos::state::{parse, parse_header, task_readers_agree};
    }

    /// The ZooKeeper client: leader detection, the wire protocol and a session.
    pub mod zk {
        /// Which master leads, from the group's children and their data.
        pub mod detect {
            pub use crate::mesos::zk::detect::{leader_node, master_addr};
        }

        /// The ZooKeeper wire protocol's decoders and error codes.
        pub mod proto {
            pub use crate::mesos::zk::proto::{
                decode_children, decode_connect_response, decode_data, decode_incoming, err, frame_len, Incoming,
            };
        }

        /// A ZooKeeper session.
        pub mod session {
            pub use crate::mesos::zk::session::Session;
        }
    }
}

/// The naming rules: a state document or a zone file into records.
pub mod records {
    pub use crate::records::zone;

    /// Records from a state document.
    pub mod from_state {
        pub use crate::records::from_state::{build_snapshot, generate_from_body, generate_from_state};
    }

    /// Records from a zone file.
    pub mod zonefile {
        pub use crate::records::zonefile::parse;
    }
}

/// The query router.
pub use crate::serve::route;

/// Response rate limiting (`rateLimit`).
pub mod rrl {
    pub use crate::serve::rrl::{slipped, Limiter, RateLimit, Verdict};
}

/// DNS cookies: our server cookies, and the COOKIE option added to an answer.
pub mod cookie {
    pub use crate::serve::cookie::{ServerCookies, Verdict};
    pub use crate::wire::cookie::{add, option};
}

/// The snapshot: the record list and the wire-ready index built from it.
pub mod snapshot {
    pub use crate::snapshot::{Lookup, RData, RecordList, Records, ZoneMap};
}

/// Zone transfers: the transfer start and TSIG.
pub mod transfer {
    pub use crate::transfer::{check_signed, sign_reply, start, Policy, SignedQuery, Start};
}

/// The warm-start snapshot file.
pub mod warm {
    pub use crate::clock::unix_now;
    pub use crate::warm::load;

    /// The snapshot file's format.
    pub mod format {
        pub use crate::warm::format::{encode, SnapshotFile};
    }

    /// Atomic file writes.
    pub mod writer {
        pub use crate::warm::writer::write_atomically;
    }
}

/// The DNS wire format.
pub mod wire {
    pub use crate::wire::{
        field, lower_name, rcode, rtype, Message, Opcode, Rcode, Received, Rtype, Section, MAX_MESSAGE, MAX_UDP_PAYLOAD,
    };
}
