//! A minimal DNS client, written from RFC 1035 without `src/wire`, so that our encoder is checked by
//! other code.

use super::*;

pub const A: u16 = 1;
pub const NS: u16 = 2;
pub const SOA: u16 = 6;
pub const PTR: u16 = 12;
pub const TXT: u16 = 16;
pub const AAAA: u16 = 28;
pub const SRV: u16 = 33;
pub const OPT: u16 = 41;
pub const ANY: u16 = 255;

pub const NOERROR: u8 = 0;
pub const FORMERR: u8 = 1;
pub const SERVFAIL: u8 = 2;
pub const NXDOMAIN: u8 = 3;
pub const NOTIMP: u8 = 4;
pub const REFUSED: u8 = 5;

/// A query with RD clear (we ask an authoritative server) for `name` (dots between labels).
pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x00, 0x00]); // QR=0, opcode QUERY, RD=0
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QDCOUNT=1
    for label in name.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
        assert!(label.len() < 64, "label too long: {label}");
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes()); // IN
    q
}

/// Sends over UDP to 127.0.0.1:`port` and returns the first datagram whose ID matches.
pub fn udp(port: u16, query: &[u8], timeout: Duration) -> io::Result<Vec<u8>> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.connect(("127.0.0.1", port))?;
    sock.set_read_timeout(Some(timeout))?;
    sock.send(query)?;
    let mut buf = vec![0u8; 65535];
    for _ in 0..16 {
        let n = sock.recv(&mut buf)?;
        if n >= 2 && buf[..2] == query[..2] {
            return Ok(buf[..n].to_vec());
        }
    }
    Err(io::Error::other("no datagram with the query's ID"))
}

/// Sends over TCP with the 2-byte length prefix and reads one framed answer.
pub fn tcp(port: u16, query: &[u8], timeout: Duration) -> io::Result<Vec<u8>> {
    let mut conn = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), timeout)?;
    conn.set_read_timeout(Some(timeout))?;
    conn.set_write_timeout(Some(timeout))?;
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    conn.write_all(&framed)?;
    read_framed(&mut conn)
}

/// Reads one length-prefixed message from a TCP stream.
pub fn read_framed(conn: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    conn.read_exact(&mut len)?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    conn.read_exact(&mut msg)?;
    Ok(msg)
}

/// One resource record, decoded for assertions; `data` is presentation text
/// (`10.0.0.1`, `0 1 31080 target.`, `mname. rname. serial refresh retry expire minimum`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    pub name: String,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    pub data: String,
}

/// A decoded response.
#[derive(Debug, Clone)]
pub struct Response {
    pub id: u16,
    pub flags: u16,
    pub rcode: u8,
    pub questions: Vec<(String, u16, u16)>,
    pub answers: Vec<Rr>,
    pub authority: Vec<Rr>,
    pub additional: Vec<Rr>,
}

impl Response {
    pub fn qr(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    pub fn aa(&self) -> bool {
        self.flags & 0x0400 != 0
    }
    pub fn tc(&self) -> bool {
        self.flags & 0x0200 != 0
    }
    pub fn rd(&self) -> bool {
        self.flags & 0x0100 != 0
    }
    pub fn ra(&self) -> bool {
        self.flags & 0x0080 != 0
    }
    /// Answer records of this type, as `data` text, sorted.
    pub fn answer_data(&self, rtype: u16) -> Vec<String> {
        let mut v: Vec<String> = self
            .answers
            .iter()
            .filter(|r| r.rtype == rtype)
            .map(|r| r.data.clone())
            .collect();
        v.sort();
        v
    }
}

struct Cursor<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.msg.len())
            .ok_or("message too short")?;
        let s = &self.msg[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A possibly compressed name, in presentation form with a trailing dot.
    fn name(&mut self) -> Result<String, String> {
        let (name, end) = read_name(self.msg, self.pos)?;
        self.pos = end;
        Ok(name)
    }
}

/// Reads a name at `pos`; returns it and the position after it in the original stream.
fn read_name(msg: &[u8], mut pos: usize) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut end = None;
    for _ in 0..128 {
        let len = *msg.get(pos).ok_or("name runs off the message")?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                if out.is_empty() {
                    out.push('.');
                }
                return Ok((out, end.unwrap_or(pos + 1)));
            }
            0x00 => {
                let label = msg
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or("label runs off the message")?;
                for &b in label {
                    if b.is_ascii_graphic() && b != b'.' && b != b'\\' {
                        out.push(char::from(b));
                    } else {
                        out.push_str(&format!("\\{b:03}"));
                    }
                }
                out.push('.');
                pos += 1 + usize::from(len);
            }
            0xc0 => {
                let lo = *msg.get(pos + 1).ok_or("pointer runs off the message")?;
                let target = usize::from(len & 0x3f) << 8 | usize::from(lo);
                if target >= pos {
                    return Err(format!("forward compression pointer at {pos}"));
                }
                end.get_or_insert(pos + 2);
                pos = target;
            }
            _ => return Err(format!("bad label type {len:#x}")),
        }
    }
    Err("name too long or pointer loop".into())
}

fn rr(c: &mut Cursor<'_>) -> Result<Rr, String> {
    let name = c.name()?;
    let rtype = c.u16()?;
    let class = c.u16()?;
    let ttl = c.u32()?;
    let rdlen = usize::from(c.u16()?);
    let start = c.pos;
    let rdata = c.take(rdlen)?;
    let data = match rtype {
        A if rdlen == 4 => Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]).to_string(),
        AAAA if rdlen == 16 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(rdata);
            Ipv6Addr::from(o).to_string()
        }
        SRV => {
            let mut sub = Cursor { msg: c.msg, pos: start };
            let (prio, weight, port) = (sub.u16()?, sub.u16()?, sub.u16()?);
            let target = sub.name()?;
            check_end(&sub, start + rdlen)?;
            format!("{prio} {weight} {port} {target}")
        }
        SOA => {
            let mut sub = Cursor { msg: c.msg, pos: start };
            let (mname, rname) = (sub.name()?, sub.name()?);
            let nums = [sub.u32()?, sub.u32()?, sub.u32()?, sub.u32()?, sub.u32()?];
            check_end(&sub, start + rdlen)?;
            format!(
                "{mname} {rname} {} {} {} {} {}",
                nums[0], nums[1], nums[2], nums[3], nums[4]
            )
        }
        NS | PTR => {
            let mut sub = Cursor { msg: c.msg, pos: start };
            let target = sub.name()?;
            check_end(&sub, start + rdlen)?;
            target
        }
        _ => rdata.iter().map(|b| format!("{b:02x}")).collect(),
    };
    Ok(Rr {
        name,
        rtype,
        class,
        ttl,
        data,
    })
}

fn check_end(c: &Cursor<'_>, end: usize) -> Result<(), String> {
    if c.pos == end {
        Ok(())
    } else {
        Err(format!(
            "RDATA length mismatch: decoded to {}, RDLENGTH says {end}",
            c.pos
        ))
    }
}

/// Decodes a whole response; every byte must be accounted for.
pub fn parse(msg: &[u8]) -> Result<Response, String> {
    let mut c = Cursor { msg, pos: 0 };
    let id = c.u16()?;
    let flags = c.u16()?;
    let counts = [c.u16()?, c.u16()?, c.u16()?, c.u16()?];
    let mut questions = Vec::new();
    for _ in 0..counts[0] {
        let name = c.name()?;
        questions.push((name, c.u16()?, c.u16()?));
    }
    let mut sections = [Vec::new(), Vec::new(), Vec::new()];
    for (i, section) in sections.iter_mut().enumerate() {
        for _ in 0..counts[i + 1] {
            section.push(rr(&mut c)?);
        }
    }
    if c.pos != msg.len() {
        return Err(format!("{} trailing bytes", msg.len() - c.pos));
    }
    let [answers, authority, additional] = sections;
    Ok(Response {
        id,
        flags,
        rcode: (flags & 0x000f) as u8,
        questions,
        answers,
        authority,
        additional,
    })
}

/// Asks `name` A over UDP from a socket bound to `bind` and connected to `to` (so only an answer from
/// that address counts, as glibc, musl and dig take it); `None` if none came within a second.
pub fn ask_a(bind: std::net::IpAddr, to: std::net::SocketAddr, id: u16, name: &str) -> Option<Response> {
    let sock = std::net::UdpSocket::bind((bind, 0)).expect("bind the client address");
    sock.connect(to).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(1))).expect("timeout");
    sock.send(&query(id, name, A)).expect("send");
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).ok()?;
    let r = parse(&buf[..n]).expect("decodable");
    assert_eq!(r.id, id);
    Some(r)
}
