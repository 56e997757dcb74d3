//! The static records file (`"staticRecordsFile"`): a master file (RFC 1035 section 5) read into the
//! records it defines, pure text in and records out. It knows `$ORIGIN`, `$TTL`, `@`, names relative to
//! the origin, a blank owner (the previous one), comments, parentheses over several lines, the class
//! `IN`, and the types A, AAAA, SRV, CNAME and TXT. Any line it cannot read, or a name outside the
//! domain, refuses the whole file with that line's number. Where the records go (the snapshot, which
//! wins a collision with a generated name) is not this module's business.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::snapshot::RData;
use crate::wire::{is_at_or_below, text_to_wire};

/// The largest static records file read (it is held in memory and parsed whole).
pub(crate) const MAX_FILE_BYTES: usize = 16 << 20;

/// One record of the file: a lower-case, fully qualified name (trailing dot), its TTL and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticRecord {
    /// The line the record starts on (1-based).
    pub line: usize,
    pub name: String,
    pub ttl: u32,
    pub data: RData,
}

/// Why a file was refused: the first bad line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneFileError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ZoneFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ZoneFileError {}

/// One token of a line: its text (quotes removed, escapes resolved) and whether it was quoted.
struct Token {
    text: String,
    quoted: bool,
}

/// One logical entry (a line, or several joined by parentheses) and whether it began with blank space.
struct Entry {
    line: usize,
    blank_owner: bool,
    tokens: Vec<Token>,
}

/// Reads a static records file for `domain` (lower-case, no trailing dot): every record, in file order,
/// or the first error. `default_ttl` is the TTL before any `$TTL`.
pub fn parse(text: &str, domain: &str, default_ttl: u32) -> Result<Vec<StaticRecord>, ZoneFileError> {
    let mut apex = Vec::new();
    if text_to_wire(domain, &mut apex).is_none() {
        return Err(err(0, format!("the domain {domain:?} is not a DNS name")));
    }
    let mut origin = format!("{}.", domain.trim_end_matches('.'));
    let mut ttl = default_ttl;
    let mut owner: Option<String> = None;
    let mut records = Vec::new();
    for entry in entries(text)? {
        let line = entry.line;
        let mut tokens = entry.tokens.into_iter().peekable();
        let Some(first) = tokens.peek() else { continue };
        if !entry.blank_owner && !first.quoted && first.text.starts_with('$') {
            let directive = tokens.next().map(|t| t.text.to_ascii_uppercase()).unwrap_or_default();
            let arg = tokens.next().map(|t| t.text);
            if tokens.next().is_some() {
                return Err(err(line, format!("{directive} takes one value")));
            }
            let arg = arg.ok_or_else(|| err(line, format!("{directive} needs a value")))?;
            match directive.as_str() {
                "$ORIGIN" => origin = name_under(&arg, &origin, &apex, line)?,
                "$TTL" => ttl = parse_ttl(&arg).ok_or_else(|| err(line, format!("bad TTL {arg:?}")))?,
                _ => return Err(err(line, format!("unsupported directive {directive}"))),
            }
            continue;
        }
        if !entry.blank_owner {
            let t = tokens.next().map(|t| t.text).unwrap_or_default();
            owner = Some(name_under(&t, &origin, &apex, line)?);
        }
        let name = owner
            .clone()
            .ok_or_else(|| err(line, "a record without an owner name before it".into()))?;
        // [TTL] [class] type, TTL and class in either order.
        let mut record_ttl = ttl;
        let rtype = loop {
            let t = tokens
                .next()
                .ok_or_else(|| err(line, "a record without a type".into()))?
                .text;
            if let Some(v) = t.bytes().all(|b| b.is_ascii_digit()).then(|| parse_ttl(&t)).flatten() {
                record_ttl = v;
            } else if !t.eq_ignore_ascii_case("IN") {
                break t.to_ascii_uppercase();
            }
        };
        let rdata: Vec<Token> = tokens.collect();
        let data = rdata_of(&rtype, &rdata, &origin, line)?;
        records.push(StaticRecord {
            line,
            name,
            ttl: record_ttl,
            data,
        });
    }
    check_cnames(&records, &origin_of(domain))?;
    Ok(records)
}

fn origin_of(domain: &str) -> String {
    format!("{}.", domain.trim_end_matches('.'))
}

/// RFC 1034 3.6.2: a CNAME is alone at its name, and the apex is no alias.
fn check_cnames(records: &[StaticRecord], apex: &str) -> Result<(), ZoneFileError> {
    for r in records {
        let others = records.iter().filter(|o| o.name == r.name);
        if matches!(r.data, RData::Cname(_)) {
            if r.name == apex {
                return Err(err(r.line, format!("a CNAME at the domain itself ({apex})")));
            }
            if let Some(other) = others.filter(|o| o.line != r.line).max_by_key(|o| o.line) {
                return Err(err(
                    r.line.max(other.line),
                    format!(
                        "{} has a CNAME and other records (lines {} and {})",
                        r.name,
                        r.line.min(other.line),
                        r.line.max(other.line)
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn err(line: usize, message: String) -> ZoneFileError {
    ZoneFileError { line, message }
}

/// A TTL: decimal seconds, at most 2^31 - 1 (RFC 2181 section 8).
fn parse_ttl(t: &str) -> Option<u32> {
    t.parse::<u32>().ok().filter(|&v| v <= i32::MAX as u32)
}

/// `text` as a fully qualified lower-case name: `@` is the origin, a name without a trailing dot is
/// relative to it. It must be a valid name at or below the domain (`apex`, wire form).
fn name_under(text: &str, origin: &str, apex: &[u8], line: usize) -> Result<String, ZoneFileError> {
    let name = absolute(text, origin);
    let mut wire = Vec::new();
    if text_to_wire(&name, &mut wire).is_none() || name.contains(['\\', ' ']) {
        return Err(err(line, format!("{text:?} is not a valid DNS name")));
    }
    if !is_at_or_below(&wire, apex) {
        return Err(err(line, format!("{name} is outside the domain")));
    }
    Ok(name)
}

/// A target name (CNAME, SRV): any valid name, relative ones under the origin.
fn target(text: &str, origin: &str, line: usize) -> Result<String, ZoneFileError> {
    let name = absolute(text, origin);
    let mut wire = Vec::new();
    if text_to_wire(&name, &mut wire).is_none() || name.contains(['\\', ' ']) || name == "." {
        return Err(err(line, format!("{text:?} is not a valid target name")));
    }
    Ok(name)
}

fn absolute(text: &str, origin: &str) -> String {
    let name = if text == "@" {
        origin.to_owned()
    } else if text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.{origin}")
    };
    name.to_ascii_lowercase()
}

fn rdata_of(rtype: &str, rdata: &[Token], origin: &str, line: usize) -> Result<RData, ZoneFileError> {
    let want = |n: usize| -> Result<(), ZoneFileError> {
        match rdata.len() == n {
            true => Ok(()),
            false => Err(err(line, format!("{rtype} takes {n} values, found {}", rdata.len()))),
        }
    };
    let field = |i: usize| rdata.get(i).map_or("", |t| t.text.as_str());
    match rtype {
        "A" => {
            want(1)?;
            let ip: Ipv4Addr = field(0)
                .parse()
                .map_err(|_| err(line, format!("bad IPv4 address {:?}", field(0))))?;
            Ok(RData::A(ip))
        }
        "AAAA" => {
            want(1)?;
            let ip: Ipv6Addr = field(0)
                .parse()
                .map_err(|_| err(line, format!("bad IPv6 address {:?}", field(0))))?;
            Ok(RData::Aaaa(ip))
        }
        "SRV" => {
            want(4)?;
            let number = |i: usize, what: &str| {
                field(i)
                    .parse::<u16>()
                    .map_err(|_| err(line, format!("bad SRV {what} {:?}", field(i))))
            };
            let (_priority, _weight, port) = (number(0, "priority")?, number(1, "weight")?, number(2, "port")?);
            Ok(RData::Srv {
                target: target(field(3), origin, line)?,
                port,
            })
        }
        "CNAME" => {
            want(1)?;
            Ok(RData::Cname(target(field(0), origin, line)?))
        }
        "TXT" => {
            if rdata.is_empty() {
                return Err(err(line, "TXT needs at least one string".into()));
            }
            let strings: Vec<String> = rdata.iter().map(|t| t.text.clone()).collect();
            if let Some(long) = strings.iter().find(|s| s.len() > 255) {
                return Err(err(
                    line,
                    format!("a TXT string of {} octets (at most 255)", long.len()),
                ));
            }
            if strings.iter().map(|s| s.len() + 1).sum::<usize>() > 65_000 {
                return Err(err(line, "TXT data over 65000 octets".into()));
            }
            Ok(RData::Txt(strings))
        }
        other => Err(err(
            line,
            format!("unsupported record type {other:?} (A, AAAA, SRV, CNAME, TXT)"),
        )),
    }
}

/// Splits the file into entries: comments dropped, quoted strings kept whole, lines inside parentheses
/// joined to the entry they began on.
fn entries(text: &str) -> Result<Vec<Entry>, ZoneFileError> {
    let mut out = Vec::new();
    // The entry whose parentheses are still open at the end of a line.
    let mut open: Option<Entry> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let mut in_parens = open.is_some();
        let mut entry = open.take().unwrap_or(Entry {
            line,
            blank_owner: raw.starts_with([' ', '\t']),
            tokens: Vec::new(),
        });
        let mut chars = raw.chars().peekable();
        while let Some(&c) = chars.peek() {
            match c {
                ';' => break,
                ' ' | '\t' | '\r' => {
                    chars.next();
                }
                '(' if in_parens => return Err(err(line, "nested parentheses".into())),
                '(' => {
                    in_parens = true;
                    chars.next();
                }
                ')' if !in_parens => return Err(err(line, "a ')' without '('".into())),
                ')' => {
                    in_parens = false;
                    chars.next();
                }
                '"' => {
                    chars.next();
                    entry.tokens.push(Token {
                        text: quoted(&mut chars, line)?,
                        quoted: true,
                    });
                }
                _ => {
                    let mut s = String::new();
                    while let Some(&c) = chars.peek() {
                        if matches!(c, ' ' | '\t' | '\r' | ';' | '(' | ')' | '"') {
                            break;
                        }
                        s.push(c);
                        chars.next();
                    }
                    entry.tokens.push(Token { text: s, quoted: false });
                }
            }
        }
        if in_parens {
            open = Some(entry);
        } else if !entry.tokens.is_empty() {
            out.push(entry);
        }
    }
    if let Some(e) = open {
        return Err(err(e.line, "a '(' without ')'".into()));
    }
    Ok(out)
}

/// The rest of a quoted string (the opening quote read): `\x` is `x`.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, line: usize) -> Result<String, ZoneFileError> {
    let mut s = String::new();
    loop {
        match chars.next() {
            None => return Err(err(line, "a quoted string without its closing quote".into())),
            Some('"') => return Ok(s),
            Some('\\') => match chars.next() {
                Some(e) => s.push(e),
                None => return Err(err(line, "a '\\' at the end of the line".into())),
            },
            Some(c) => s.push(c),
        }
    }
}

#[cfg(test)]
mod tests;
