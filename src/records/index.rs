//! The immutable, wire-ready lookup snapshot the server answers from.

use crate::config::Config;
use crate::records::RecordList;

/// The zone settings a snapshot answers with (taken from the config when it is built).
#[derive(Debug, Clone)]
pub struct Zone {
    /// Lower-case, no trailing dot.
    pub domain: String,
    pub ttl: u32,
    pub soa_mname: String,
    pub soa_rname: String,
    pub soa_refresh: u32,
    pub soa_retry: u32,
    pub soa_expire: u32,
    pub soa_minttl: u32,
    pub srv_weight: u16,
    pub recurse_on: bool,
    pub set_truncate_bit: bool,
}

impl Zone {
    pub fn from_config(c: &Config) -> Zone {
        Zone {
            domain: c.domain.clone(),
            ttl: c.ttl,
            soa_mname: c.soa_mname.clone(),
            soa_rname: c.soa_rname.clone(),
            soa_refresh: c.soa_refresh,
            soa_retry: c.soa_retry,
            soa_expire: c.soa_expire,
            soa_minttl: c.soa_minttl,
            srv_weight: c.srv_record_default_weight,
            recurse_on: c.recurse_on,
            set_truncate_bit: c.set_truncate_bit,
        }
    }
}

/// One snapshot of every record, indexed by lower-case wire-format name.
pub struct Records {
    loaded: bool,
}

impl Records {
    /// The snapshot before the first successful refresh: the domain answers SERVFAIL.
    pub fn unloaded(_zone: Zone) -> Records {
        Records { loaded: false }
    }

    /// Builds a snapshot from generated records; `serial` is the SOA serial (Unix time of the refresh).
    pub fn build(_zone: Zone, _list: &RecordList, _serial: u32) -> Records {
        Records { loaded: true }
    }

    /// Whether this snapshot came from a successful refresh.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }
}
