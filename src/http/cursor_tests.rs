//! The streamed documents against the whole ones: the cursors' output, cut at every kind of chunk
//! boundary, is the JSON value (and, keys in order, the bytes) the tree-building handlers this crate
//! served before streaming write for the same snapshots, kept here as the reference.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::axfr::Axfr;
use super::body::{Cursor, Fill};
use super::enumerate::Enumerate;
use super::tests::{cluster, tutorial};
use crate::config::Config;
use crate::snapshot::{Records, Srv};
use crate::wire::wire_to_text;

fn v4_text(octets: &[u8; 4]) -> String {
    std::net::Ipv4Addr::from(*octets).to_string()
}

fn v6_text(octets: &[u8; 16]) -> String {
    std::net::Ipv6Addr::from(*octets).to_string()
}

/// The reference `/v1/enumerate`: the whole tree, then `serde_json`.
fn enumerate_value(records: &Records) -> Value {
    use crate::snapshot::RData;
    let Some(list) = records.list() else {
        return json!({"frameworks": []});
    };
    let mut per_task: Vec<Vec<Value>> = vec![Vec::new(); list.tasks().len()];
    for (task, record) in list.task_records() {
        let (rtype, host) = match &record.data {
            RData::A(ip) => ("A", ip.to_string()),
            RData::Aaaa(ip) => ("AAAA", ip.to_string()),
            RData::Srv { target, port } => ("SRV", format!("{target}:{port}")),
            RData::Cname(target) => ("CNAME", target.clone()),
            RData::Txt(_) => ("TXT", String::new()),
        };
        per_task[task].push(json!({"name": record.name, "host": host, "rtype": rtype}));
    }
    let mut per_framework: Vec<Vec<Value>> = vec![Vec::new(); list.frameworks().len()];
    for (task, records) in list.tasks().zip(per_task) {
        per_framework[task.framework_index].push(json!({"name": task.name, "id": task.id, "records": records}));
    }
    let frameworks: Vec<Value> = list
        .frameworks()
        .zip(per_framework)
        .map(|(name, tasks)| json!({"name": name, "tasks": tasks}))
        .collect();
    json!({ "frameworks": frameworks })
}

/// The reference `/v1/axfr`.
fn axfr_value(config: &Config, records: &Records) -> Value {
    let (mut a, mut aaaa, mut srv) = (Map::new(), Map::new(), Map::new());
    for node in records.nodes() {
        let name = wire_to_text(node.name);
        if !node.a.is_empty() {
            a.insert(name.clone(), node.a.iter().map(v4_text).collect());
        }
        if !node.aaaa.is_empty() {
            aaaa.insert(name.clone(), node.aaaa.iter().map(v6_text).collect());
        }
        if !node.srv.is_empty() {
            let target = |s: &Srv| {
                records
                    .node(s.target)
                    .map_or_else(String::new, |t| wire_to_text(t.name))
            };
            srv.insert(
                name,
                node.srv.iter().map(|s| format!("{}:{}", target(s), s.port)).collect(),
            );
        }
    }
    let zone = records.zone();
    json!({
        "TTL": zone.ttl, "Serial": records.serial(), "RefreshSeconds": config.refresh_seconds,
        "Mname": zone.soa_mname, "Rname": zone.soa_rname, "Domain": zone.domain,
        "Records": {"As": a, "AAAAs": aaaa, "SRVs": srv},
    })
}

/// Runs `cursor` with `budget` per fill; the chunks, each checked against the budget (`slack`: the
/// longest single value a fill may add past it).
fn chunks(mut cursor: Box<dyn Cursor>, budget: usize, slack: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for _ in 0..1_000_000 {
        let mut chunk = Vec::new();
        let fill = cursor.fill(&mut chunk, budget);
        assert!(
            chunk.len() <= budget + slack,
            "chunk of {} bytes for a budget of {budget}",
            chunk.len()
        );
        out.push(chunk);
        if fill == Fill::Done {
            let mut after = Vec::new();
            assert_eq!(cursor.fill(&mut after, budget), Fill::Done, "done stays done");
            assert!(after.is_empty(), "nothing after the end");
            return out;
        }
    }
    panic!("the cursor never finished");
}

/// The cursor's document at every budget from one byte to all at once, against `want`: the same value,
/// and the same bytes when the object keys are in the same order.
fn assert_streams_as(make: &dyn Fn() -> Box<dyn Cursor>, want: &Value, same_bytes: bool) {
    let whole = serde_json::to_vec(want).unwrap();
    for budget in [1, 2, 7, 64, 1000, 1 << 20] {
        let parts = chunks(make(), budget, 200);
        let doc = parts.concat();
        assert_eq!(doc.last(), Some(&b'\n'), "budget {budget}: a newline ends the document");
        let got: Value = serde_json::from_slice(&doc).unwrap_or_else(|e| panic!("budget {budget}: {e}"));
        assert_eq!(&got, want, "budget {budget}");
        if same_bytes {
            assert_eq!(doc[..doc.len() - 1], whole[..], "budget {budget}: byte for byte");
        }
        if budget == 1 && whole.len() > 100 {
            assert!(parts.len() > 20, "small budgets give many chunks");
        }
    }
}

fn boxed(cursor: impl Cursor + 'static) -> Box<dyn Cursor> {
    Box::new(cursor)
}

#[test]
fn enumerate_streams_the_whole_document_at_any_chunk_size() {
    for (config, records) in [tutorial(), cluster()] {
        let _ = config;
        let want = enumerate_value(&records);
        assert!(want["frameworks"].as_array().is_some_and(|f| !f.is_empty()));
        // Every object's keys are written in sorted order, as serde_json writes them: the same bytes.
        assert_streams_as(&|| boxed(Enumerate::new(records.clone())), &want, true);
    }
}

#[test]
fn enumerate_of_a_snapshot_without_a_list_is_empty() {
    let (config, _) = tutorial();
    let records = Arc::new(Records::unloaded(crate::records::zone(&config)));
    assert_streams_as(
        &|| boxed(Enumerate::new(records.clone())),
        &json!({"frameworks": []}),
        true,
    );
}

#[test]
fn axfr_streams_the_whole_document_at_any_chunk_size() {
    for (mut config, records) in [tutorial(), cluster()] {
        config.refresh_seconds = 42;
        let want = axfr_value(&config, &records);
        assert!(want["Records"]["As"].as_object().is_some_and(|a| a.len() > 3));
        // The names within a record set come in node order: the same value, not the same bytes.
        assert_streams_as(&|| boxed(Axfr::new(records.clone(), 42)), &want, false);
    }
}

#[test]
fn a_snapshot_swapped_mid_document_does_not_change_it() {
    let (_, records) = cluster();
    let want = axfr_value(&Config::default(), &records);
    let mut cursor = Axfr::new(records.clone(), Config::default().refresh_seconds);
    let mut doc = Vec::new();
    assert_eq!(cursor.fill(&mut doc, 100), Fill::More);
    drop(records); // the refresher's swap: the cursor's Arc is now the only one
    while cursor.fill(&mut doc, 100) == Fill::More {}
    assert_eq!(serde_json::from_slice::<Value>(&doc).unwrap(), want);
}
