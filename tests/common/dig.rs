//! `dig` and `kdig` runners, and a parser of their default output.

use std::collections::BTreeSet;

use super::*;

/// What `dig` printed, parsed: status, header flags, and the records of each section as
/// (owner, type, rdata) text.
#[derive(Debug, Clone, Default)]
pub struct Dig {
    pub status: String,
    pub flags: Vec<String>,
    pub answer: Vec<(String, String, String)>,
    pub authority: Vec<(String, String, String)>,
    pub additional: Vec<(String, String, String)>,
    pub raw: String,
}

impl Dig {
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
    /// The rdata of answer records of this type, sorted.
    pub fn answer_data(&self, rtype: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .answer
            .iter()
            .filter(|r| r.1 == rtype)
            .map(|r| r.2.clone())
            .collect();
        v.sort();
        v
    }
}

/// Runs `dig @127.0.0.1 -p PORT NAME TYPE +tcp|+notcp +norecurse +time=2 +tries=1` and parses its output.
/// Fails the test when `dig` is missing: the tests need it (`apt-get install -y dnsutils`; CI does it).
pub fn dig(port: u16, name: &str, rtype: &str, transport: Transport) -> Dig {
    let proto = if transport == Transport::Tcp { "+tcp" } else { "+notcp" };
    let out = Command::new("dig")
        .args([
            "-r",
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            name,
            rtype,
            proto,
            "+norecurse",
            "+time=2",
            "+tries=1",
        ])
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            panic!("`dig` is not installed: install the `dnsutils` package (apt-get install -y dnsutils); .ci/run does")
        }
        Err(e) => panic!("cannot run dig: {e}"),
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "dig failed ({}):\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    parse_dig(&text)
}

/// Runs Knot's `kdig @127.0.0.1 -p PORT NAME TYPE +tcp|+notcp +norecurse +time=2 +retry=0` (a second,
/// independent parser; unlike dig it sends no EDNS by default). Fails the test when `kdig` is missing
/// (`apt-get install -y knot-dnsutils`; CI does it).
pub fn kdig(port: u16, name: &str, rtype: &str, transport: Transport) -> Dig {
    let proto = if transport == Transport::Tcp { "+tcp" } else { "+notcp" };
    let out = Command::new("kdig")
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            name,
            rtype,
            proto,
            "+norecurse",
            "+time=2",
            "+retry=0",
        ])
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => panic!(
            "`kdig` is not installed: install the `knot-dnsutils` package (apt-get install -y knot-dnsutils); .ci/run does"
        ),
        Err(e) => panic!("cannot run kdig: {e}"),
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "kdig failed ({}):\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    parse_dig(&text)
}

/// Parses the default output of dig and of kdig (`status: X,` / `status: X;`, `flags:` / `Flags:`).
pub fn parse_dig(text: &str) -> Dig {
    let mut d = Dig {
        raw: text.to_owned(),
        ..Dig::default()
    };
    let mut section: Option<&str> = None;
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(rest) = line.split_once("status: ").map(|(_, r)| r) {
            d.status = rest.split([',', ';']).next().unwrap_or("").trim().to_owned();
        } else if let Some(rest) = line
            .strip_prefix(";; flags:")
            .or_else(|| line.strip_prefix(";; Flags:"))
        {
            d.flags = rest
                .split(';')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_owned)
                .collect();
        } else if line.starts_with(";; ANSWER SECTION:") {
            section = Some("answer");
        } else if line.starts_with(";; AUTHORITY SECTION:") {
            section = Some("authority");
        } else if line.starts_with(";; ADDITIONAL SECTION:") {
            section = Some("additional");
        } else if line.is_empty() || line.starts_with(';') {
            if line.is_empty() {
                section = None;
            }
        } else if let Some(which) = section {
            let mut parts = line.split_whitespace();
            let (Some(owner), Some(_ttl), Some(_class), Some(rtype)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let rec = (owner.to_owned(), rtype.to_owned(), parts.collect::<Vec<_>>().join(" "));
            match which {
                "answer" => d.answer.push(rec),
                "authority" => d.authority.push(rec),
                _ => d.additional.push(rec),
            }
        }
    }
    d
}

/// Runs `tool` (dig or kdig) against the server and returns what it printed (stdout and stderr).
pub fn run(tool: &str, port: u16, args: &[&str]) -> String {
    let port = port.to_string();
    let mut all = vec!["@127.0.0.1", "-p", &port];
    all.extend_from_slice(args);
    let out = Command::new(tool)
        .args(&all)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} (apt-get install -y dnsutils knot-dnsutils): {e}"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The records of a transfer as dig or kdig print them: (owner, type, rdata), TSIG lines left out.
pub fn transfer_records(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 5 && f[2] == "IN").then(|| (f[0].to_owned(), f[3].to_owned(), f[4..].join(" ")))
        })
        .collect()
}

/// The hex after `COOKIE:` in dig's or kdig's output, and the rest of that line.
pub fn printed_cookie(out: &str) -> (String, String) {
    let line = out
        .lines()
        .find(|l| l.contains("COOKIE:"))
        .unwrap_or_else(|| panic!("no COOKIE printed:\n{out}"));
    let rest = line.split("COOKIE:").nth(1).unwrap_or_default().trim();
    let (value, tail) = rest.split_once(' ').unwrap_or((rest, ""));
    (value.to_lowercase(), tail.to_string())
}

// ---------------------------------------------------------------------------------------------------
// Zone transfers (the stream and poll edit tests check IXFR answers against AXFRs)

/// One record of a zone transfer as dig prints it: (owner, type, rdata).
pub type Rec = (String, String, String);

/// The serial of an SOA's rdata text.
pub fn soa_serial(rdata: &str) -> Option<u32> {
    rdata.split(' ').nth(2)?.parse().ok()
}

/// The zone's serial as the server answers it.
pub fn current_serial(port: u16) -> u32 {
    let text = run("dig", port, &["+short", "mesos", "SOA"]);
    soa_serial(text.trim()).unwrap_or_else(|| panic!("an SOA: {text}"))
}

/// An AXFR's records but the SOA, as a set.
pub fn axfr_set(port: u16, tool: &str) -> BTreeSet<Rec> {
    signed_axfr_set(port, tool, &[])
}

/// [`axfr_set`] with more arguments for `tool` (a TSIG key).
pub fn signed_axfr_set(port: u16, tool: &str, args: &[&str]) -> BTreeSet<Rec> {
    let mut all = args.to_vec();
    all.extend(["mesos", "AXFR"]);
    let text = run(tool, port, &all);
    let rrs = transfer_records(&text);
    assert!(
        rrs.len() > 2 && rrs[0].1 == "SOA" && rrs[rrs.len() - 1] == rrs[0],
        "{tool}: an AXFR:\n{text}"
    );
    rrs.into_iter().filter(|r| r.1 != "SOA").collect()
}

/// What an incremental IXFR answer deletes and adds (over all its deltas), or why it is not one.
pub fn ixfr_changes(text: &str, new_serial: u32) -> Result<(BTreeSet<Rec>, BTreeSet<Rec>), String> {
    let rrs = transfer_records(text);
    let [first, body @ .., last] = rrs.as_slice() else {
        return Err(format!("fewer than two records:\n{text}"));
    };
    if first.1 != "SOA" || first != last || soa_serial(&first.2) != Some(new_serial) {
        return Err(format!("not framed by the SOA of serial {new_serial}:\n{text}"));
    }
    let soas = body.iter().filter(|r| r.1 == "SOA").count();
    if body.first().map(|r| r.1.as_str()) != Some("SOA") || soas % 2 != 0 {
        return Err(format!("not the incremental form:\n{text}"));
    }
    let (mut deleted, mut added) = (BTreeSet::new(), BTreeSet::new());
    let mut deleting = false;
    for r in body {
        if r.1 == "SOA" {
            deleting = !deleting;
        } else if deleting {
            deleted.insert(r.clone());
        } else {
            added.insert(r.clone());
        }
    }
    Ok((deleted, added))
}
