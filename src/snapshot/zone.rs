//! The zone settings a snapshot answers with: the domain, TTL, SOA fields and answer policy. Where they
//! come from (the config, through `crate::records::zone`) is not this module's business.

/// The zone settings a snapshot answers with (taken from the config when it is built).
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The A or AAAA records an answer section carries at most: `aRecordLimit`, `usize::MAX` for its 0
    /// (no limit), so that the answer path only compares a length with it.
    pub a_records_max: usize,
    /// The apex NS names (fully qualified); empty: `soa_mname` alone.
    pub nameservers: Vec<String>,
}

#[cfg(test)]
impl Zone {
    /// The zone of the default config (domain `mesos`), spelled out for unit tests, which see no config
    /// from here; a test in `crate::records` checks that the two agree.
    pub(crate) fn of_default_config() -> Zone {
        Zone {
            domain: "mesos".into(),
            ttl: 60,
            soa_mname: "ns1.mesos.".into(),
            soa_rname: "root.ns1.mesos.".into(),
            soa_refresh: 60,
            soa_retry: 600,
            soa_expire: 86400,
            soa_minttl: 60,
            srv_weight: 1,
            recurse_on: true,
            set_truncate_bit: true,
            a_records_max: usize::MAX,
            nameservers: Vec::new(),
        }
    }
}
