//! The monitoring files under `contrib/`: every metric the Grafana dashboard
//! (`contrib/grafana/mesos-dns.json`) and the Prometheus alert rules
//! (`contrib/prometheus/mesos-dns.rules.yml`) name exists in the real binary's `/metrics`, with every
//! label value they match on and every label they group by, so that renaming a metric or a label fails
//! here. The server runs on loopback against a fake master and relays one name to a loopback responder
//! (a resolver's round-trip time appears only once it has answered). `promtool check rules` is run by
//! `.ci/run`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::upstream::{Behaviour, Upstream};
use common::*;
use serde_json::{json, Value};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// `/metrics` as families: name -> the (label, value) pairs of its samples.
#[derive(Default)]
struct Exposition(BTreeMap<String, BTreeSet<(String, String)>>);

impl Exposition {
    fn parse(text: &str) -> Exposition {
        let mut families = BTreeMap::<String, BTreeSet<(String, String)>>::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap_or_default();
                families.entry(name.to_string()).or_default();
            } else if !line.starts_with('#') && !line.is_empty() {
                let (name, labels) = match line.split_once('{') {
                    Some((name, rest)) => (name, rest.split_once('}').map_or("", |(l, _)| l)),
                    None => (line.split(' ').next().unwrap_or_default(), ""),
                };
                let pairs = families.entry(name.to_string()).or_default();
                for (label, value) in parse_matchers(labels).into_iter().map(|(l, _, v)| (l, v)) {
                    pairs.insert((label, value));
                }
            }
        }
        Exposition(families)
    }

    fn has_label(&self, family: &str, label: &str) -> bool {
        self.0
            .get(family)
            .is_some_and(|pairs| pairs.iter().any(|(l, _)| l == label))
    }
}

/// One label matcher: (label, operator, value).
type Matcher = (String, String, String);

/// `a="x",b=~"y"` as matchers.
fn parse_matchers(text: &str) -> Vec<Matcher> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let (label, after) = rest.split_at(name_end);
        let after = after.trim_start();
        let op_len = after.find('"').unwrap_or(0);
        let (op, after) = after.split_at(op_len);
        let after = after.strip_prefix('"').unwrap_or(after);
        let close = after.find('"').unwrap_or(after.len());
        out.push((label.to_string(), op.trim().to_string(), after[..close].to_string()));
        rest = after.get(close + 1..).unwrap_or("").trim_start_matches([',', ' ']);
    }
    out
}

/// What one PromQL expression uses: metric names with their matchers, and the labels it groups by.
#[derive(Debug, Default)]
struct Uses {
    metrics: Vec<(String, Vec<Matcher>)>,
    by: Vec<String>,
}

/// Scans an expression (outside quoted strings) for `mesos_dns_*` selectors and `by (...)` clauses.
fn uses(expr: &str) -> Uses {
    let mut out = Uses::default();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c == '"' {
            i += expr[i + 1..].find('"').map_or(bytes.len(), |n| n + 2);
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let end = expr[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .map_or(bytes.len(), |n| i + n);
            let word = &expr[i..end];
            let after = expr[end..].trim_start();
            if word.starts_with("mesos_dns_") {
                let matchers = match after.strip_prefix('{') {
                    Some(inner) => parse_matchers(&inner[..inner.find('}').unwrap_or(inner.len())]),
                    None => Vec::new(),
                };
                out.metrics.push((word.to_string(), matchers));
            } else if word == "by" || word == "without" {
                if let Some(inner) = after.strip_prefix('(') {
                    let list = &inner[..inner.find(')').unwrap_or(inner.len())];
                    out.by
                        .extend(list.split(',').map(|l| l.trim().to_string()).filter(|l| !l.is_empty()));
                }
            }
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// Every `expr` (and template query) of the dashboard, with where it is.
fn dashboard_exprs() -> Vec<(String, String)> {
    let path = format!("{REPO}/contrib/grafana/mesos-dns.json");
    let text = std::fs::read_to_string(&path).expect("the dashboard");
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        let title = panel["title"].as_str().unwrap_or_default();
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("a target's expr");
            out.push((format!("panel {title:?}"), expr.to_string()));
        }
    }
    for var in dashboard["templating"]["list"].as_array().expect("templating") {
        if let Some(query) = var["query"]["query"].as_str() {
            out.push((format!("variable {}", var["name"]), query.to_string()));
        }
    }
    out
}

/// Every alert's name and `expr` (one line each: the rules file keeps them so).
fn rule_exprs() -> Vec<(String, String)> {
    let path = format!("{REPO}/contrib/prometheus/mesos-dns.rules.yml");
    let text = std::fs::read_to_string(&path).expect("the rules");
    let mut out = Vec::new();
    let mut alert = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("- alert:") {
            alert = name.trim().to_string();
        } else if let Some(expr) = line.strip_prefix("expr:") {
            let expr = expr.trim();
            assert!(
                !expr.is_empty() && !expr.starts_with(['|', '>']),
                "{alert}: keep expr on one line"
            );
            out.push((format!("alert {alert}"), expr.to_string()));
        }
    }
    assert_eq!(text.matches("- alert:").count(), out.len(), "one expr per alert");
    out
}

/// The real binary's `/metrics`, after a refresh and a relayed query.
fn live_metrics() -> Exposition {
    let master = FakeMaster::serving(tutorial());
    let upstream = Upstream::start(Behaviour::Answer(vec![std::net::Ipv4Addr::new(192, 0, 2, 7)]));
    let http_port = free_port();
    let server = Server::start_with(
        &[master.addr()],
        json!({
            "httpon": true, "httpListener": "127.0.0.1", "httpport": http_port,
            "resolvers": [upstream.resolver()],
        }),
    );
    server.wait_loaded();
    let answer = dns::udp(
        server.port,
        &dns::query(77, "www.example.org", dns::A),
        Duration::from_secs(5),
    );
    assert!(answer.is_ok(), "the relayed query was answered: {answer:?}");
    let mut text = String::new();
    wait_until("a resolver's round-trip time in /metrics", CHANGE_DEADLINE, || {
        text = http_get_ok(http_port, "/metrics");
        text.contains("mesos_dns_relay_resolver_srtt_seconds{")
    });
    Exposition::parse(&text)
}

#[test]
fn every_metric_and_label_the_dashboard_and_alerts_use_is_in_metrics() {
    let exposition = live_metrics();
    let exprs: Vec<(String, String)> = dashboard_exprs().into_iter().chain(rule_exprs()).collect();
    assert!(exprs.len() > 20, "{exprs:?}");
    let mut used = BTreeSet::new();
    let mut problems = Vec::new();
    for (place, expr) in &exprs {
        let found = uses(expr);
        if found.metrics.is_empty() {
            problems.push(format!("{place}: no mesos_dns_ metric in {expr:?}"));
        }
        for (metric, matchers) in &found.metrics {
            used.insert(metric.clone());
            let Some(pairs) = exposition.0.get(metric) else {
                problems.push(format!("{place}: {metric} is not in /metrics"));
                continue;
            };
            for (label, op, value) in matchers {
                match op.as_str() {
                    // Grafana's variables ($instance) are not label values of ours.
                    "=~" | "!~" if label == "instance" => {}
                    "=" | "!=" if pairs.contains(&(label.clone(), value.clone())) => {}
                    _ => problems.push(format!("{place}: {metric} has no sample {label}{op}\"{value}\"")),
                }
            }
        }
        for label in &found.by {
            let ours = found.metrics.iter().any(|(m, _)| exposition.has_label(m, label));
            if !ours && label != "instance" && label != "job" {
                problems.push(format!("{place}: no metric of {expr:?} has the label `{label}`"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The questions the issue asks, each answered by some panel or alert.
    for metric in [
        "mesos_dns_dns_queries_total",
        "mesos_dns_dns_responses_total",
        "mesos_dns_relay_resolver_srtt_seconds",
        "mesos_dns_relay_cache_hits_total",
        "mesos_dns_last_refresh_timestamp_seconds",
        "mesos_dns_refreshes_total",
        "mesos_dns_records",
        "mesos_dns_carried_tasks",
        "mesos_dns_zone_transfers_total",
        "mesos_dns_relay_resolver_up",
        "mesos_dns_records_from_snapshot_file",
    ] {
        assert!(used.contains(metric), "nothing shows {metric}");
    }
}

#[test]
fn the_alerts_the_issue_asks_for_are_there() {
    let alerts: Vec<String> = rule_exprs().into_iter().map(|(place, _)| place).collect();
    for alert in [
        "MesosDNSRefreshStale",
        "MesosDNSAllResolversDown",
        "MesosDNSServingFromSnapshotFile",
        "MesosDNSHighServfailRate",
    ] {
        assert!(alerts.contains(&format!("alert {alert}")), "{alerts:?}");
    }
}

#[test]
fn the_expression_scanner_finds_names_matchers_and_groupings() {
    let found = uses(
        r#"sum by (instance, rcode) (rate(mesos_dns_dns_responses_total{instance=~"$instance",rcode="SERVFAIL"}[5m])) / ignoring(x) mesos_dns_records"#,
    );
    assert_eq!(found.by, ["instance", "rcode"]);
    assert_eq!(found.metrics.len(), 2);
    assert_eq!(found.metrics[0].0, "mesos_dns_dns_responses_total");
    assert_eq!(
        found.metrics[0].1,
        [
            ("instance".to_string(), "=~".to_string(), "$instance".to_string()),
            ("rcode".to_string(), "=".to_string(), "SERVFAIL".to_string())
        ]
    );
    assert_eq!(found.metrics[1], ("mesos_dns_records".to_string(), Vec::new()));
    // A renamed metric is caught: the exposition has no such family.
    let exposition = Exposition::parse("# TYPE mesos_dns_records gauge\nmesos_dns_records{type=\"A\"} 3\n");
    assert!(exposition.0.contains_key("mesos_dns_records"));
    assert!(!exposition.0.contains_key("mesos_dns_dns_responses_total"));
    assert!(exposition.has_label("mesos_dns_records", "type"));
}
