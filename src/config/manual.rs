//! The man page `mesos-dns(8)`, rendered from what the code itself uses: the command line from argh's
//! help text ([`crate::cli`]), and one entry per config key from the key table ([`super::keys::KEYS`]:
//! its spelling, its environment variable, its kind, whether a SIGHUP applies it) with its default from
//! [`Config::default`] as `/v1/config` shows it. Only each key's sentence of meaning is written here
//! ([`MEANINGS`]), and a test checks that it lists exactly the table's keys, in order. The page is
//! committed as `contrib/debian/mesos-dns.8`; a test compares it with this rendering, so neither can drift
//! (`WRITE_MAN_PAGE=1 cargo test --lib manual` writes it again).
//!
//! Pure: text in, text out. Compiled for tests only (the shipped binary does not carry its manual).

use std::fmt::Write as _;

use super::keys::{Kind, KEYS};
use super::Config;

/// Each key's meaning, in the table's order, in plain text (`code` in backquotes becomes bold).
pub(crate) const MEANINGS: &[(&str, &str)] = &[
    ("masters", "`host:port` of every Mesos master, tried in order until the leader is found. Required unless `zk` is given."),
    ("zk", "`zk://[user:password@]host:port[,host:port...]/path`: find the leading master through ZooKeeper. Empty: use `masters`."),
    ("zkDetectionTimeout", "Seconds to wait at start for ZooKeeper to name a leader; then log an error and fetch from `masters` until it names one (0: use `masters` at once)."),
    ("stateSource", "`poll`: fetch the whole state every `refreshSeconds`; `stream`: also follow the leader's operator event stream and apply each task change at once."),
    ("refreshSeconds", "Seconds between two state refreshes (at least 1)."),
    ("stateTimeoutSeconds", "Timeout of one state fetch, in seconds (at least 1)."),
    ("failoverGraceSeconds", "After a leader change, how long an agent missing from a state without `recovered_slaves` keeps its tasks' records (0: not at all)."),
    ("ttl", "TTL of every record served, in seconds (0: not to be cached)."),
    ("domain", "The domain served authoritatively (`mesos`: tasks are `TASK.FRAMEWORK.mesos`)."),
    ("port", "The DNS port (UDP and TCP). Ports below 1024 need CAP_NET_BIND_SERVICE."),
    ("listener", "The address DNS is served on; `0.0.0.0` or `::` for every interface."),
    ("httpListener", "The address of the HTTP API (`/v1/...`, `/metrics`, `/ready`)."),
    ("httpport", "The port of the HTTP API."),
    ("dnson", "Serve DNS."),
    ("httpon", "Serve the HTTP API (`dnson` and `httpon` cannot both be false)."),
    ("resolvers", "Upstream resolvers (`ip` or `ip:port`) for names outside the domain. Empty: the nameservers of /etc/resolv.conf (or `-resolv-conf`), never this server itself; the original's default is 8.8.8.8."),
    ("zoneResolvers", "An object mapping zones to their own resolvers (`{\"consul\": [\"10.0.0.9:8600\"]}`): names in a zone are relayed there."),
    ("timeout", "Seconds each upstream resolver gets for a relayed query (0: 5, as the original)."),
    ("udpReceiveBuffer", "Bytes of kernel receive buffer asked for each UDP socket (0: the OS default; the kernel grants at most net.core.rmem_max)."),
    ("udpSendBuffer", "Bytes of kernel send buffer asked for each UDP socket (0: the OS default; at most net.core.wmem_max)."),
    ("externalon", "Relay names outside the domain to the resolvers (false: REFUSED)."),
    ("cacheOn", "Keep relayed answers for their TTL and answer repeats from memory."),
    ("cacheMaxEntries", "Relayed answers cached at most."),
    ("serveStaleSeconds", "When every resolver fails, serve a cached answer expired less than this long ago, with TTL 30 (RFC 8767); 0: never."),
    ("relayAllowFrom", "CIDR networks whose clients may have outside names relayed; others get REFUSED for them and still get the domain. Absent: loopback, RFC 1918, RFC 6598, link-local and IPv6 ULA clients. `[]`: nobody. `[\"0.0.0.0/0\", \"::/0\"]`: everyone, as the original."),
    ("rateLimit", "UDP responses a second per client network (/24, /56) at most, with a burst of one second; TCP is never limited. 0: no limit."),
    ("rateLimitSlip", "Of the responses over `rateLimit`, every this many-th goes out as an empty truncated answer (so a real client retries over TCP), the rest are dropped. 0: none slips."),
    ("recurseon", "Set the RA (recursion available) flag in answers."),
    ("SOAMname", "The SOA record's MNAME (the primary name server)."),
    ("email", "The old spelling of `SOARname` (an `@` becomes a dot); `SOARname` wins when both are given."),
    ("SOARname", "The SOA record's RNAME (the mailbox of the person responsible)."),
    ("SOASerial", "Accepted and checked, without effect: the serial is the time of each refresh."),
    ("SOARefresh", "The SOA record's refresh field, in seconds."),
    ("SOARetry", "The SOA record's retry field, in seconds."),
    ("SOAExpire", "The SOA record's expire field, in seconds."),
    ("SOAMinttl", "The SOA record's minimum TTL (the TTL of negative answers), in seconds."),
    ("srvRecordDefaultWeight", "The weight of the SRV records served."),
    ("aRecordLimit", "A and AAAA answers carry at most this many records, a random few each time (0: all)."),
    ("preferLocalZone", "Answer a query from an agent with the A, AAAA and SRV records of tasks in its Mesos fault-domain zone first, then the rest (loopback counts as this host when it is an agent)."),
    ("IPSources", "Where a task's address is taken from, in order: `netinfo`, `mesos`, `docker`, `host`."),
    ("unroutableNetworks", "CIDR networks whose task addresses are not published; the next `IPSources` entry is used instead."),
    ("hideUnhealthyTasks", "A task whose latest TASK_RUNNING status says `healthy: false` gets no records."),
    ("minVisibility", "`FRAMEWORK` (every task), `CLUSTER` or `EXTERNAL`: a task whose discovery visibility is below it gets no records."),
    ("excludeFrameworks", "Framework names (any case) whose tasks get no records."),
    ("excludeTaskLabels", "`KEY=VALUE` or `KEY`: a task carrying such a Mesos label gets no records."),
    ("EnforceRFC952", "Make names follow RFC 952 (letters first, 24 characters) instead of RFC 1123."),
    ("SetTruncateBit", "Set the TC bit on UDP answers cut to fit (false: cut them silently)."),
    ("EnumerationOn", "Serve /v1/enumerate and /v1/axfr."),
    ("PTROn", "Answer reverse lookups (PTR) of task and agent addresses."),
    ("mesosHTTPSOn", "Fetch the state from the masters over HTTPS."),
    ("caCertFile", "PEM file of the CAs the masters' certificates are checked against. Empty: the system bundle. Read at start and on SIGHUP; a missing file is a config error."),
    ("certFile", "PEM client certificate for the masters (mutual TLS), with `keyFile`."),
    ("keyFile", "PEM key of `certFile`."),
    ("IAMConfigFile", "With `mesosAuthentication` `iam`: the DC/OS service account file (`uid`, `private_key`, `login_endpoint`). Read at start and on SIGHUP."),
    ("staticRecordsFile", "A master file (RFC 1035) of static records served beside the generated ones. Read at start and on SIGHUP; a bad line is a config error naming the line."),
    ("snapshotFile", "Where the last good records are kept for a warm start (/var/lib/mesos-dns/snapshot under the packaged unit): served at start, before the first refresh, when no master answers. Empty: off."),
    ("snapshotMaxAgeSeconds", "A snapshot file older than this is not served at start."),
    ("mesosCredentials", "`{\"principal\": ..., \"secret\": ...}` for `mesosAuthentication` `basic`. The secret is never shown."),
    ("mesosAuthentication", "`basic` (with `mesosCredentials`), `iam` (with `IAMConfigFile`) or empty: how requests to the masters authenticate."),
    ("transferAllowFrom", "CIDR networks whose clients may transfer the zone (AXFR, IXFR). Empty: nobody."),
    ("tsigKeys", "`[{\"name\": ..., \"algorithm\": \"hmac-sha256\", \"secret\": BASE64}]`: with any, a zone transfer must be signed with one of them (RFC 8945). Never shown."),
    ("cookieSecret", "32 hex digits: the DNS cookie secret (RFC 9018) shared by servers behind one anycast address; it does not rotate. Empty: a random secret of our own, rotated hourly. Never shown."),
    ("notify", "`ip:port` of the secondaries told of each new serial (NOTIFY, RFC 1996)."),
    ("ixfrJournalBytes", "Bytes of zone changes kept for IXFR (default 16 MiB); older changes are dropped first, and a secondary behind them gets AXFR. None are kept when no one may transfer (`transferAllowFrom` empty, no `notify`). 0: no journal."),
    ("nameservers", "The zone's apex NS names. Empty: `SOAMname` alone."),
    ("File", "Accepted and ignored; /v1/config shows the path of the file loaded under this name."),
];

/// The manual page, in roff (`man 8 mesos-dns`).
pub(crate) fn man_page() -> String {
    let mut out = String::new();
    let version = env!("CARGO_PKG_VERSION");
    let _ = writeln!(
        out,
        ".\\\" Generated from src/config/keys.rs and src/cli.rs by src/config/manual.rs: do not edit."
    );
    let _ = writeln!(
        out,
        ".TH MESOS\\-DNS 8 \"\" \"mesos\\-dns {version}\" \"System Administration\""
    );
    section(&mut out, "NAME");
    out.push_str("mesos\\-dns \\- DNS\\-based service discovery for Apache Mesos\n");
    section(&mut out, "SYNOPSIS");
    out.push_str(".B mesos\\-dns\n[\\fB\\-config=\\fIFILE\\fR] [\\fB\\-v\\fR|\\fB\\-vv\\fR] [\\fB\\-check\\-config\\fR] [\\fIOPTIONS\\fR]\n");
    section(&mut out, "DESCRIPTION");
    paragraph(
        &mut out,
        "mesos-dns serves DNS for the tasks of an Apache Mesos cluster: it fetches the leading master's state every `refreshSeconds` (or follows its event stream), names every task, framework and agent under `domain`, answers those names authoritatively over UDP and TCP, and relays other names to upstream resolvers. An HTTP API serves the same records, the effective config and Prometheus metrics (`/metrics`). It is a drop-in replacement for the Go Mesos-DNS: the same config file, flags and names.",
    );
    section(&mut out, "OPTIONS");
    paragraph(
        &mut out,
        "Every flag takes one or two dashes and its value after `=` or as the next argument (boolean flags only after `=`), as Go's flag package; the last of a repeated flag counts. The help text (`mesos-dns --help`):",
    );
    out.push_str(".PP\n.nf\n");
    for line in help_text().lines() {
        let _ = writeln!(out, "{}", escape_line(line));
    }
    out.push_str(".fi\n");
    section(&mut out, "CONFIGURATION");
    paragraph(
        &mut out,
        "The config file is a JSON object (see -config); keys match without regard to case and unknown keys are ignored with a warning. Every key can also be set by the environment variable named after it, which goes over the file's value: a list as comma-separated text or a JSON array, an object as JSON. The variables are read once, at start. SIGHUP reads the file again; keys marked \"at the next start\" need a restart. `mesos-dns -check-config` checks a config as a start would, without binding or contacting anything.",
    );
    let defaults = Config::default();
    for key in KEYS {
        let meaning = MEANINGS
            .iter()
            .find(|(name, _)| *name == key.name)
            .map_or("", |(_, m)| m);
        let _ = writeln!(out, ".TP\n.B {}", escape(key.name));
        paragraph_text(&mut out, meaning);
        let default = match key.json {
            Some((_, shown)) => shown(&defaults).to_string(),
            None => "none".to_string(),
        };
        let kind = match key.kind {
            Kind::Scalar => "",
            Kind::List => " (a list)",
            Kind::Json => " (JSON)",
        };
        let applied = match key.restart_only {
            Some(_) => "at the next start",
            None => "on SIGHUP",
        };
        let var = format!("MESOS_DNS_{}", key.name.to_ascii_uppercase());
        let _ = writeln!(
            out,
            ".br\nDefault: \\fB{}\\fR. Environment: \\fB{}\\fR{kind}. Applied {applied}.",
            escape(&default),
            escape(&var)
        );
    }
    section(&mut out, "ENVIRONMENT");
    out.push_str(".TP\n.B MESOS_DNS_\\fIKEY\\fR\nA config key, over the file's value (above).\n");
    out.push_str(".TP\n.B MESOS_DNS_CONFIG\nNot read by mesos\\-dns; DC/OS units pass it as \\fB\\-\\-config=${MESOS_DNS_CONFIG}\\fR.\n");
    out.push_str(".TP\n.B RUST_LOG\nThe log level, over \\fB\\-v\\fR (\\fBRUST_LOG=mesos_dns=debug\\fR).\n");
    section(&mut out, "SIGNALS");
    out.push_str(".TP\n.B SIGHUP\nRead the config file again (the environment's keys stay over it); a config that does not load is refused and the running one kept.\n");
    out.push_str(".TP\n.B SIGTERM\\fR, \\fBSIGINT\nStop cleanly (exit status 0).\n");
    section(&mut out, "EXIT STATUS");
    out.push_str(".TP\n.B 0\nStopped by a signal, or \\fB\\-check\\-config\\fR found the config good.\n");
    out.push_str(".TP\n.B 1\nServing failed (a socket could not be bound, ...).\n");
    out.push_str(".TP\n.B 2\nA bad command line or config, named in the message, before any socket is bound.\n");
    section(&mut out, "FILES");
    out.push_str(".TP\n.I /etc/mesos\\-dns/config.json\nThe packaged config (the unit's \\fB\\-config\\fR).\n");
    out.push_str(
        ".TP\n.I /etc/default/mesos\\-dns\nOptional \\fBMESOS_DNS_\\fIKEY\\fR=\\fIvalue\\fR lines for the unit.\n",
    );
    out.push_str(".TP\n.I /var/lib/mesos\\-dns/snapshot\nThe warm\\-start file (\\fBsnapshotFile\\fR) under the unit's StateDirectory.\n");
    section(&mut out, "SEE ALSO");
    out.push_str("systemctl(1), resolv.conf(5), unbound.conf(5)\n");
    out
}

/// argh's help text, as `mesos-dns --help` prints it.
fn help_text() -> String {
    let argv = ["mesos-dns".to_string(), "--help".to_string()];
    match crate::cli::parse_args(&argv) {
        Err(crate::cli::CliError::Help(text)) => text,
        _ => String::new(),
    }
}

fn section(out: &mut String, name: &str) {
    let _ = writeln!(out, ".SH {name}");
}

fn paragraph(out: &mut String, text: &str) {
    out.push_str(".PP\n");
    paragraph_text(out, text);
}

/// Text with `code` in bold, one sentence per line (roff's convention).
fn paragraph_text(out: &mut String, text: &str) {
    let mut line = String::new();
    for (i, part) in text.split('`').enumerate() {
        match i % 2 {
            1 => {
                let _ = write!(line, "\\fB{}\\fR", escape(part));
            }
            _ => line.push_str(&escape(part)),
        }
    }
    let line = line.replace(". ", ".\n");
    for l in line.lines() {
        let _ = writeln!(out, "{}", guard(l.trim_start()));
    }
}

/// Backslashes and dashes made literal.
fn escape(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}

/// A line of preformatted text: escaped, and kept from reading as a request.
fn escape_line(line: &str) -> String {
    guard(&escape(line))
}

/// A line that would start with `.` or `'` (a roff request) starts with `\&` instead.
fn guard(line: &str) -> String {
    match line.starts_with('.') || line.starts_with('\'') {
        true => format!("\\&{line}"),
        false => line.to_string(),
    }
}

#[cfg(test)]
mod tests;
