//! Records: the naming rules. They turn the master's state into the list of named records a snapshot is
//! built from ([`generate`], [`from_state`]): labels ([`label`]), task-id hashes ([`taskid`]), which
//! addresses a task gets and which of them point back to it. The list type and the lookup structure are
//! [`crate::snapshot`]'s; this module fills the one and hands it to the other.

pub(crate) mod from_state;
pub(crate) mod generate;
pub(crate) mod label;
pub(crate) mod taskid;
pub(crate) mod zonefile;

use crate::config::Config;
use crate::snapshot::Zone;

/// The zone settings of `config`, which a snapshot answers with.
pub fn zone(config: &Config) -> Zone {
    Zone {
        domain: config.domain.clone(),
        ttl: config.ttl,
        soa_mname: config.soa_mname.clone(),
        soa_rname: config.soa_rname.clone(),
        soa_refresh: config.soa_refresh,
        soa_retry: config.soa_retry,
        soa_expire: config.soa_expire,
        soa_minttl: config.soa_minttl,
        srv_weight: config.srv_record_default_weight,
        recurse_on: config.recurse_on,
        set_truncate_bit: config.set_truncate_bit,
        a_records_max: match config.a_record_limit {
            0 => usize::MAX,
            n => usize::from(n),
        },
        nameservers: config.nameservers.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_tests_zone_is_the_default_configs() {
        assert_eq!(zone(&Config::default()), Zone::of_default_config());
    }

    #[test]
    fn every_zone_setting_comes_from_its_key() {
        let config = Config {
            domain: "dc1.example".into(),
            ttl: 5,
            soa_mname: "ns.dc1.example.".into(),
            soa_rname: "admin.dc1.example.".into(),
            soa_refresh: 11,
            soa_retry: 12,
            soa_expire: 13,
            soa_minttl: 14,
            srv_record_default_weight: 7,
            recurse_on: false,
            set_truncate_bit: false,
            a_record_limit: 2,
            ..Config::default()
        };
        let expect = Zone {
            domain: "dc1.example".into(),
            ttl: 5,
            soa_mname: "ns.dc1.example.".into(),
            soa_rname: "admin.dc1.example.".into(),
            soa_refresh: 11,
            soa_retry: 12,
            soa_expire: 13,
            soa_minttl: 14,
            srv_weight: 7,
            recurse_on: false,
            set_truncate_bit: false,
            a_records_max: 2,
            nameservers: Vec::new(),
        };
        assert_eq!(zone(&config), expect);
    }
}
