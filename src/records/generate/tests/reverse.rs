//! Reverse names (`PTROn`): which addresses point back to what.

use super::*;

/// The reverse mappings as `address name`, in generation order.
fn reverse(list: &RecordList) -> Vec<String> {
    list.reverse().map(|(ip, name)| format!("{ip} {name}")).collect()
}

#[test]
fn reverse_lookups_off_mark_nothing_and_on_change_no_forward_record() {
    for (doc, sources) in [(TUTORIAL, DEFAULT_SOURCES), (FAKE, ALL_SOURCES)] {
        let off = gen_with(
            doc,
            Opts {
                sources,
                ..Opts::default()
            },
        );
        let on = gen_with(
            doc,
            Opts {
                sources,
                ptr_on: true,
                ..Opts::default()
            },
        );
        assert_eq!(reverse(&off), Vec::<String>::new());
        assert!(!reverse(&on).is_empty());
        assert_eq!(on.iter().collect::<Vec<_>>(), off.iter().collect::<Vec<_>>());
    }
}

#[test]
fn tutorial_host_network_addresses_point_back_to_the_agent_only() {
    // Both tasks run on their agent's address: a PTR naming one task would flip as tasks come and go.
    let list = gen_with(
        TUTORIAL,
        Opts {
            ptr_on: true,
            ..Opts::default()
        },
    );
    assert_eq!(
        reverse(&list),
        [
            "10.14.245.208 slave.mesos.",
            "10.114.227.92 slave.mesos.",
            "10.29.107.105 slave.mesos.",
        ]
    );
}

#[test]
fn container_addresses_point_back_to_the_task_and_its_unique_name() {
    let list = gen_with(
        FAKE,
        Opts {
            ptr_on: true,
            ..Opts::default()
        },
    );
    let toy = "ipv6-framework.mesos.";
    let toy_canon = format!(
        "toy-store-{}-3.{toy}",
        hash("toy-store.b8db9f73-562f-11e4-a088-c20493233aa5")
    );
    let want: Vec<String> = [
        "1.2.3.10 slave.mesos.".to_owned(),
        "1.2.3.11 slave.mesos.".into(),
        "1.2.3.12 slave.mesos.".into(),
        "2001:db8::1 slave.mesos.".into(),
        // Address by address, the short name then the canonical one (the original's order).
        format!("12.0.1.3 toy-store.{toy}"),
        format!("12.0.1.3 {toy_canon}"),
        format!("12.0.1.2 toy-store.{toy}"),
        format!("12.0.1.2 {toy_canon}"),
        format!("fd01:b::1:8000:2 toy-store.{toy}"),
        format!("fd01:b::1:8000:2 {toy_canon}"),
        "10.3.0.3 nginx.marathon.mesos.".into(),
        format!(
            "10.3.0.3 nginx-{}-0.marathon.mesos.",
            hash("nginx.1bc32344-3dda-11e4-a088-c20493233aa5")
        ),
    ]
    .into();
    assert_eq!(reverse(&list), want);
}
