//! The HTTP API of the original Mesos-DNS (`/v1/version`, `/v1/config`, `/v1/hosts/{host}`,
//! `/v1/hosts/{host}/ports`, `/v1/services/{service}`, `/v1/enumerate`, `/v1/axfr`) plus `/health`,
//! `/ready` and `/metrics`: pure functions from (method, path, snapshot) to a response. The connection
//! handling is in [`conn`]; the event loop serves both. `/v1/enumerate` and `/v1/axfr` walk every
//! record, so at 100k tasks they hold the loop for tens of milliseconds.

pub mod conn;

use serde_json::{json, Value};

use crate::config::Config;
use crate::records::{text_to_wire, Lookup, Node, Records};

/// An HTTP response before framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// `Allow` header value, for 405.
    pub allow: Option<&'static str>,
}

impl Response {
    fn json(status: u16, value: &Value) -> Response {
        let mut body = serde_json::to_vec(value).unwrap_or_default();
        body.push(b'\n');
        Response {
            status,
            content_type: "application/json",
            body,
            allow: None,
        }
    }

    fn text(status: u16, content_type: &'static str, body: String) -> Response {
        Response {
            status,
            content_type,
            body: body.into_bytes(),
            allow: None,
        }
    }
}

/// What the routes read.
pub struct ApiContext<'a> {
    pub config: &'a Config,
    pub records: &'a Records,
    /// `Err(reason)` while not ready (see `metrics::RefreshStatus::readiness`).
    pub readiness: Result<(), String>,
    /// Renders `/metrics` (only called for that path).
    pub metrics: &'a dyn Fn() -> String,
}

/// Answers one request. HEAD is answered like GET (the connection leaves the body out).
pub fn route(method: &str, path: &str, ctx: &ApiContext<'_>) -> Response {
    if method != "GET" && method != "HEAD" {
        return Response {
            allow: Some("GET, HEAD"),
            ..Response::json(405, &json!({"error": "method not allowed"}))
        };
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["v1", "version"] => Response::json(
            200,
            &json!({"Service": "Mesos-DNS", "Version": env!("CARGO_PKG_VERSION"), "URL": "https://github.com/mesosphere/mesos-dns"}),
        ),
        ["v1", "config"] => Response::json(200, &ctx.config.to_json()),
        ["v1", "hosts", host] => Response::json(200, &hosts(ctx.records, host)),
        ["v1", "hosts", host, "ports"] => Response::json(200, &ports(ctx.records, host)),
        ["v1", "services", service] => Response::json(200, &services(ctx.records, service)),
        ["v1", "enumerate" | "axfr"] if !ctx.config.enumeration_on => {
            Response::json(404, &json!({"error": "enumeration is turned off (EnumerationOn)"}))
        }
        ["v1", "enumerate"] => Response::json(200, &enumerate(ctx.records)),
        ["v1", "axfr"] => Response::json(200, &axfr(ctx.records)),
        ["health"] => Response::json(200, &json!({"status": "ok"})),
        ["ready"] => match &ctx.readiness {
            Ok(()) => Response::json(200, &json!({"status": "ready"})),
            Err(reason) => Response::json(503, &json!({"status": "not ready", "reason": reason})),
        },
        ["metrics"] => Response::text(200, "text/plain; version=0.0.4; charset=utf-8", (ctx.metrics)()),
        _ => Response::json(404, &json!({"error": "not found", "path": path})),
    }
}

/// The node of a name given in a path (case-insensitive, trailing dot optional), and its text form
/// (lower-case, with the trailing dot) as the original echoes it.
fn find<'r>(records: &'r Records, name: &str) -> (Option<Node<'r>>, String) {
    let mut text = name.trim_end_matches('.').to_ascii_lowercase();
    text.push('.');
    let mut wire = Vec::with_capacity(text.len() + 1);
    let node = match text_to_wire(&text, &mut wire).map(|()| records.lookup(&wire)) {
        Some(Lookup::Found(node)) => Some(node),
        _ => None,
    };
    (node, text)
}

/// A wire name as dotted text with the trailing dot.
fn wire_text(wire: &[u8]) -> String {
    let mut out = String::with_capacity(wire.len());
    let mut pos = 0;
    while let Some(&len) = wire.get(pos) {
        if len == 0 {
            break;
        }
        let label = wire.get(pos + 1..pos + 1 + usize::from(len)).unwrap_or_default();
        out.push_str(&String::from_utf8_lossy(label));
        out.push('.');
        pos += usize::from(len) + 1;
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

fn addresses<'r>(node: &Node<'r>) -> impl Iterator<Item = String> + 'r {
    let v4 = node.a.iter().map(|a| std::net::Ipv4Addr::from(*a).to_string());
    v4.chain(node.aaaa.iter().map(|a| std::net::Ipv6Addr::from(*a).to_string()))
}

/// `/v1/hosts/{host}`: the A and AAAA records of a name; one entry with empty fields when there are
/// none (as the original).
fn hosts(records: &Records, host: &str) -> Value {
    let (node, dom) = find(records, host);
    let list: Vec<Value> = node
        .iter()
        .flat_map(|n| {
            addresses(n)
                .map(|ip| json!({"host": dom, "ip": ip}))
                .collect::<Vec<_>>()
        })
        .collect();
    if list.is_empty() {
        return json!([{"host": "", "ip": ""}]);
    }
    Value::Array(list)
}

/// One SRV record as the original's services endpoint shows it: the target's first address as `ip`.
fn srv_entry(records: &Records, service: &str, target: u32, port: u16) -> Value {
    let target = records.node(target);
    let host = target.map_or_else(String::new, |t| wire_text(t.name));
    let ip = target.and_then(|t| addresses(&t).next()).unwrap_or_default();
    json!({"service": service, "host": host, "ip": ip, "port": port.to_string()})
}

const NO_SERVICE: fn() -> Value = || json!([{"service": "", "host": "", "ip": "", "port": ""}]);

/// `/v1/services/{service}`: the SRV records of a name, with their targets' addresses.
fn services(records: &Records, service: &str) -> Value {
    let (node, _) = find(records, service);
    let list: Vec<Value> = node
        .iter()
        .flat_map(|n| n.srv.iter())
        .map(|s| srv_entry(records, service, s.target, s.port))
        .collect();
    if list.is_empty() {
        return NO_SERVICE();
    }
    Value::Array(list)
}

/// `/v1/hosts/{host}/ports`: every SRV record whose target is this host (the original never
/// implemented it). Scans the snapshot: a few milliseconds at a million records.
fn ports(records: &Records, host: &str) -> Value {
    let (node, _) = find(records, host);
    let Some(target) = node else { return NO_SERVICE() };
    let mut list = Vec::new();
    for owner in records.nodes() {
        for srv in owner
            .srv
            .iter()
            .filter(|s| records.node(s.target).is_some_and(|t| t.name == target.name))
        {
            list.push(srv_entry(records, &wire_text(owner.name), srv.target, srv.port));
        }
    }
    if list.is_empty() {
        return NO_SERVICE();
    }
    Value::Array(list)
}

/// The data of a record as the enumeration shows it: an address, or `target:port`.
fn rdata_text(data: &crate::records::RData) -> (&'static str, String) {
    use crate::records::RData;
    match data {
        RData::A(ip) => ("A", ip.to_string()),
        RData::Aaaa(ip) => ("AAAA", ip.to_string()),
        RData::Srv { target, port } => ("SRV", format!("{target}:{port}")),
    }
}

/// `/v1/enumerate`: frameworks, their tasks, and each task's records.
fn enumerate(records: &Records) -> Value {
    let Some(list) = records.list() else {
        return json!({"frameworks": []});
    };
    let mut per_task: Vec<Vec<Value>> = vec![Vec::new(); list.tasks().len()];
    for (task, record) in list.task_records() {
        let (rtype, host) = rdata_text(&record.data);
        if let Some(slot) = per_task.get_mut(task) {
            slot.push(json!({"name": record.name, "host": host, "rtype": rtype}));
        }
    }
    // Frameworks in the order they first appear, each with its tasks in generation order.
    let mut frameworks: Vec<(&str, Vec<Value>)> = Vec::new();
    for (task, records) in list.tasks().zip(per_task) {
        let entry = json!({"name": task.name, "id": task.id, "records": records});
        match frameworks.iter_mut().find(|(name, _)| *name == task.framework) {
            Some((_, list)) => list.push(entry),
            None => frameworks.push((task.framework, vec![entry])),
        }
    }
    let frameworks: Vec<Value> = frameworks
        .into_iter()
        .map(|(name, tasks)| json!({"name": name, "tasks": tasks}))
        .collect();
    json!({ "frameworks": frameworks })
}

/// `/v1/axfr`: every record set of the snapshot with the SOA fields (in the original's `RecordSet`
/// spirit: name -> values per type).
fn axfr(records: &Records) -> Value {
    let (mut a, mut aaaa, mut srv) = (serde_json::Map::new(), serde_json::Map::new(), serde_json::Map::new());
    for node in records.nodes() {
        let name = wire_text(node.name);
        if !node.a.is_empty() {
            let ips = node
                .a
                .iter()
                .map(|o| Value::from(std::net::Ipv4Addr::from(*o).to_string()))
                .collect();
            a.insert(name.clone(), Value::Array(ips));
        }
        if !node.aaaa.is_empty() {
            let ips = node
                .aaaa
                .iter()
                .map(|o| Value::from(std::net::Ipv6Addr::from(*o).to_string()))
                .collect();
            aaaa.insert(name.clone(), Value::Array(ips));
        }
        if !node.srv.is_empty() {
            let targets = node
                .srv
                .iter()
                .map(|s| {
                    Value::from(format!(
                        "{}:{}",
                        records.node(s.target).map_or_else(String::new, |t| wire_text(t.name)),
                        s.port
                    ))
                })
                .collect();
            srv.insert(name, Value::Array(targets));
        }
    }
    let z = records.zone();
    json!({
        "Domain": format!("{}.", z.domain),
        "TTL": z.ttl,
        "SOA": {
            "Mname": z.soa_mname, "Rname": z.soa_rname, "Serial": records.serial(),
            "Refresh": z.soa_refresh, "Retry": z.soa_retry, "Expire": z.soa_expire, "Minttl": z.soa_minttl,
        },
        "As": a,
        "AAAAs": aaaa,
        "SRVs": srv,
    })
}

#[cfg(test)]
mod tests;
