//! The HTTP API of the original Mesos-DNS (`/v1/version`, `/v1/config`, `/v1/hosts/{host}`,
//! `/v1/hosts/{host}/ports`, `/v1/services/{service}`, `/v1/enumerate`, `/v1/axfr`) plus `/health`,
//! `/ready` and `/metrics`: pure functions from (method, path, snapshot) to a response. The connection
//! handling is in [`conn`]; the event loop serves both. `/v1/enumerate` and `/v1/axfr` ([`enumerate`],
//! [`axfr`]) grow with the cluster: they are streamed ([`body`]) from the snapshot the request started
//! with, a bounded chunk per turn of the loop.
//!
//! The `/v1` documents are the original's, key for key (its `resolver.go` handlers, `models.AXFR`,
//! `records.EnumerationData`, `records.Config` as Go's encoding/json writes them). Deliberate
//! differences: secrets in `/v1/config` are redacted, `/v1/config` also has our `PTROn` and
//! `StateSource`, an empty list is `[]` where Go writes `null` (a nil slice), and
//! `/v1/hosts/{host}/ports`, which the original never implemented (501), lists the SRV records naming
//! the host.

mod axfr;
pub(crate) mod body;
pub(crate) mod conn;
mod enumerate;

use std::sync::Arc;

use serde_json::{json, Value};

pub(crate) use body::{Body, Cursor};

use crate::config::Config;
use crate::snapshot::{Lookup, Node, Records, Srv};
use crate::wire::{text_to_wire, wire_to_text};

/// An HTTP response before framing.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header value.
    pub content_type: &'static str,
    /// The body, whole or streamed.
    pub body: Body,
    /// `Allow` header value, for 405.
    pub allow: Option<&'static str>,
}

impl Response {
    /// A JSON document (and a newline), whole.
    pub fn json(status: u16, value: &Value) -> Response {
        let mut body = serde_json::to_vec(value).unwrap_or_default();
        body.push(b'\n');
        Response {
            status,
            content_type: "application/json",
            body: Body::Whole(body),
            allow: None,
        }
    }

    fn streamed(cursor: impl Cursor + 'static) -> Response {
        Response {
            status: 200,
            content_type: "application/json",
            body: Body::Streamed(Box::new(cursor)),
            allow: None,
        }
    }

    fn text(status: u16, content_type: &'static str, body: String) -> Response {
        Response {
            status,
            content_type,
            body: Body::Whole(body.into_bytes()),
            allow: None,
        }
    }
}

/// What the routes read.
pub struct ApiContext<'a> {
    /// The config, for `/v1/config` and the routes it switches.
    pub config: &'a Config,
    /// The snapshot; streamed documents keep a reference to it until they are written.
    pub records: &'a Arc<Records>,
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
        ["v1", "config"] => Response::json(200, &config(ctx.config, ctx.records)),
        ["v1", "hosts", host] => Response::json(200, &hosts(ctx.records, host)),
        ["v1", "hosts", host, "ports"] => Response::json(200, &ports(ctx.records, host)),
        ["v1", "services", service] => Response::json(200, &services(ctx.records, service)),
        ["v1", "enumerate" | "axfr"] if !ctx.config.enumeration_on => {
            Response::json(404, &json!({"error": "enumeration is turned off (EnumerationOn)"}))
        }
        ["v1", "enumerate"] => Response::streamed(enumerate::Enumerate::new(ctx.records.clone())),
        ["v1", "axfr"] => Response::streamed(axfr::Axfr::new(ctx.records.clone(), ctx.config.refresh_seconds)),
        ["health"] => Response::json(200, &json!({"status": "ok"})),
        ["ready"] => match &ctx.readiness {
            Ok(()) => Response::json(200, &json!({"status": "ready"})),
            Err(reason) => Response::json(503, &json!({"status": "not ready", "reason": reason})),
        },
        ["metrics"] => Response::text(200, "text/plain; version=0.0.4; charset=utf-8", (ctx.metrics)()),
        _ => Response::json(404, &json!({"error": "not found", "path": path})),
    }
}

/// The name given in a path as the original reads it: `.*` removed (its `cleanWild`), lower-case,
/// with the trailing dot.
fn path_name(name: &str) -> String {
    let mut text = name.replace(".*", "").trim_end_matches('.').to_ascii_lowercase();
    text.push('.');
    text
}

/// The node of a name given in a path, and its text form ([`path_name`]) as the original echoes it.
fn find<'r>(records: &'r Records, name: &str) -> (Option<Node<'r>>, String) {
    let text = path_name(name);
    let mut wire = Vec::with_capacity(text.len() + 1);
    let node = match text_to_wire(&text, &mut wire).map(|()| records.lookup(&wire)) {
        Some(Lookup::Found(node)) => Some(node),
        _ => None,
    };
    (node, text)
}

fn v4_text(octets: &[u8; 4]) -> String {
    std::net::Ipv4Addr::from(*octets).to_string()
}

fn v6_text(octets: &[u8; 16]) -> String {
    std::net::Ipv6Addr::from(*octets).to_string()
}

/// `/v1/config`: the effective configuration ([`Config::to_json`]) with `SOASerial`, which the original
/// keeps in its config and bumps at each refresh: here the serial of the records being served.
fn config(config: &Config, records: &Records) -> Value {
    let mut doc = config.to_json();
    if let Value::Object(map) = &mut doc {
        map.insert("SOASerial".into(), records.serial().into());
    }
    doc
}

/// `/v1/hosts/{host}`: the A and AAAA records of a name; one entry with empty fields when there are
/// none (as the original).
fn hosts(records: &Records, host: &str) -> Value {
    let (node, dom) = find(records, host);
    let list: Vec<Value> = node
        .iter()
        .flat_map(|n| n.a.iter().map(v4_text).chain(n.aaaa.iter().map(v6_text)))
        .map(|ip| json!({"host": dom, "ip": ip}))
        .collect();
    if list.is_empty() {
        return json!([{"host": "", "ip": ""}]);
    }
    Value::Array(list)
}

/// The entries of one SRV record as the original's services endpoint shows them: one with the
/// target's first IPv4 address and one with its first IPv6 address, as far as it has them (none for a
/// target without addresses).
fn srv_entries(records: &Records, service: &str, srv: &Srv, out: &mut Vec<Value>) {
    let Some(target) = records.node(srv.target) else { return };
    let host = wire_to_text(target.name);
    let port = srv.port.to_string();
    let first_v4 = target.a.first().map(v4_text);
    let first_v6 = target.aaaa.first().map(v6_text);
    for ip in first_v4.into_iter().chain(first_v6) {
        out.push(json!({"service": service, "host": host, "ip": ip, "port": port}));
    }
}

const NO_SERVICE: fn() -> Value = || json!([{"service": "", "host": "", "ip": "", "port": ""}]);

/// `/v1/services/{service}`: the SRV records of a name with their targets' addresses; `service` is
/// echoed as given (the original does not clean it). One entry with empty fields when there are none.
fn services(records: &Records, service: &str) -> Value {
    let (node, _) = find(records, service);
    let mut list = Vec::new();
    for srv in node.iter().flat_map(|n| n.srv.iter()) {
        srv_entries(records, service, srv, &mut list);
    }
    if list.is_empty() {
        return NO_SERVICE();
    }
    Value::Array(list)
}

/// `/v1/hosts/{host}/ports` (ours: the original answers 501): every SRV record whose target is this
/// host, in the services endpoint's shape. Scans the snapshot: a few milliseconds at a million records.
fn ports(records: &Records, host: &str) -> Value {
    let (node, _) = find(records, host);
    let Some(target) = node else { return NO_SERVICE() };
    let mut list = Vec::new();
    for owner in records.nodes() {
        let mut pointing = owner
            .srv
            .iter()
            .filter(|s| records.node(s.target).is_some_and(|t| t.name == target.name))
            .peekable();
        if pointing.peek().is_none() {
            continue;
        }
        let service = wire_to_text(owner.name);
        for srv in pointing {
            srv_entries(records, &service, srv, &mut list);
        }
    }
    if list.is_empty() {
        return NO_SERVICE();
    }
    Value::Array(list)
}

#[cfg(test)]
mod cursor_tests;
#[cfg(test)]
mod tests;
