//! The agents' fault domain zones noted in the record list (`preferLocalZone`), and the zone map made
//! from it: agents' addresses as sources, tasks' own addresses in their agents' zones.

use super::*;
use crate::snapshot::ZoneMap;

#[test]
fn agents_zones_give_their_addresses_and_their_tasks_addresses_a_zone() {
    let doc = br#"{"leader": "master@10.0.0.1:5050",
      "slaves": [
        {"id": "a1", "pid": "slave(1)@10.1.0.1:5051", "hostname": "10.1.0.1",
         "domain": {"fault_domain": {"region": {"name": "eu"}, "zone": {"name": "eu-1"}}}},
        {"id": "a2", "pid": "slave(1)@10.1.0.2:5051", "hostname": "10.1.0.2",
         "domain": {"fault_domain": {"region": {"name": "eu"}, "zone": {"name": "eu-2"}}}},
        {"id": "a3", "pid": "slave(1)@10.1.0.3:5051", "hostname": "10.1.0.3"}],
      "frameworks": [{"id": "f", "name": "marathon", "tasks": [
        {"id": "web.1", "name": "web", "slave_id": "a1", "state": "TASK_RUNNING",
         "statuses": [{"state": "TASK_RUNNING", "timestamp": 1,
           "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": "10.9.0.1"}]}]}}]},
        {"id": "web.2", "name": "web", "slave_id": "a2", "state": "TASK_RUNNING",
         "statuses": [{"state": "TASK_RUNNING", "timestamp": 1}]},
        {"id": "web.3", "name": "web", "slave_id": "a3", "state": "TASK_RUNNING",
         "statuses": [{"state": "TASK_RUNNING", "timestamp": 1,
           "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": "10.9.0.3"}]}]}}]}]}]}"#;
    let list = gen_with(doc, Opts::default());
    let zones = ZoneMap::of_list(&list, &[]).expect("two agents are in zones");
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let one = zones.zone_of_source(ip("10.1.0.1")).expect("a1 is in eu-1");
    let two = zones.zone_of_source(ip("10.1.0.2")).expect("a2 is in eu-2");
    assert_ne!(one, two);
    assert_eq!(zones.zone_of_source(ip("10.1.0.3")), None, "a3 has no domain");
    assert_eq!(
        zones.zone_of_address(&[10, 9, 0, 1]),
        one,
        "web.1's own address is in a1's zone"
    );
    assert_eq!(zones.zone_of_address(&[10, 1, 0, 2]), two, "web.2 on a2's address");
    assert_eq!(
        zones.zone_of_address(&[10, 9, 0, 3]),
        u16::MAX,
        "web.3's agent has no zone"
    );
    assert_eq!(zones.counts(), (2, 2, 3));
    // Without a zoned agent there is no map at all.
    assert!(ZoneMap::of_list(&gen_with(TUTORIAL, Opts::default()), &[]).is_none());
}
