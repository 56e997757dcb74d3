//! One HTTP/1.1 server connection over a non-blocking stream: bounded request heads parsed with
//! `httparse`, no request bodies, keep-alive and pipelined requests answered in order, bounded output,
//! and the time of the last request for the loop's idle timeout. Generic over the stream, so it is
//! tested with an in-memory one.

use std::io::{self, Read, Write};
use std::time::Instant;

use super::Response;
use crate::wire::tcp::OutBuf;

/// The largest request head accepted.
pub const MAX_HEAD: usize = 8 * 1024;
/// The most headers accepted.
pub const MAX_HEADERS: usize = 32;
/// Responses waiting for a client that does not read, at most; past that requests wait.
const MAX_OUTPUT: usize = 1 << 20;

/// One HTTP connection's buffers.
#[derive(Debug)]
pub struct HttpConn {
    input: Vec<u8>,
    output: OutBuf,
    close_after_write: bool,
    peer_closed: bool,
    /// When the last request was answered (or the connection opened).
    pub last_activity: Instant,
}

impl Default for HttpConn {
    fn default() -> Self {
        Self::new()
    }
}

/// A parsed request line.
struct Head {
    method: String,
    path: String,
    close: bool,
    bad: Option<(u16, &'static str)>,
}

impl HttpConn {
    pub fn new() -> HttpConn {
        HttpConn {
            input: Vec::new(),
            output: OutBuf::default(),
            close_after_write: false,
            peer_closed: false,
            last_activity: Instant::now(),
        }
    }

    /// Reads what is there, answers every complete request with `handle(method, path)` (HEAD: the body
    /// is left out) and writes what the stream takes. Returns false when the connection should close.
    pub fn on_ready<S: Read + Write>(
        &mut self,
        stream: &mut S,
        handle: &mut dyn FnMut(&str, &str) -> Response,
    ) -> bool {
        let mut buf = [0u8; 4096];
        while !self.peer_closed && !self.close_after_write && self.output.len() < MAX_OUTPUT {
            match stream.read(&mut buf) {
                Ok(0) => self.peer_closed = true,
                Ok(n) => {
                    self.input.extend_from_slice(&buf[..n]);
                    if self.input.len() > MAX_HEAD * 4 {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        while !self.close_after_write && self.output.len() < MAX_OUTPUT {
            let Some((head, used)) = self.parse() else { break };
            self.input.drain(..used);
            self.last_activity = Instant::now();
            let response = match head.bad {
                Some((status, why)) => {
                    self.close_after_write = true;
                    let mut body = why.as_bytes().to_vec();
                    body.push(b'\n');
                    Response {
                        status,
                        content_type: "text/plain; charset=utf-8",
                        body,
                        allow: None,
                    }
                }
                None => handle(&head.method, &head.path),
            };
            self.close_after_write |= head.close;
            self.frame(&response, head.method == "HEAD");
        }
        if !self.output.flush_to(stream) {
            return false;
        }
        let drained = self.output.is_empty();
        !(drained && (self.close_after_write || (self.peer_closed && self.input.is_empty())))
    }

    /// The next request head, and how many input bytes it used; a request that cannot be served gets
    /// `bad` set (and its bytes all used).
    fn parse(&self) -> Option<(Head, usize)> {
        if self.input.is_empty() {
            return None;
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let bad = |status, why| {
            Some((
                Head {
                    method: String::new(),
                    path: String::new(),
                    close: true,
                    bad: Some((status, why)),
                },
                self.input.len(),
            ))
        };
        match req.parse(&self.input) {
            Ok(httparse::Status::Partial) if self.input.len() > MAX_HEAD => bad(431, "request head too large"),
            Ok(httparse::Status::Partial) if self.peer_closed => bad(400, "incomplete request"),
            Ok(httparse::Status::Partial) => None,
            Err(httparse::Error::TooManyHeaders) => bad(431, "too many headers"),
            Err(_) => bad(400, "malformed request"),
            Ok(httparse::Status::Complete(used)) => {
                if used > MAX_HEAD {
                    return bad(431, "request head too large");
                }
                let header = |name: &str| {
                    req.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
                };
                let has_body =
                    header("transfer-encoding").is_some() || header("content-length").is_some_and(|v| v.trim() != "0");
                if has_body {
                    return bad(413, "request bodies are not accepted");
                }
                let http10 = req.version == Some(0);
                let connection = header("connection").unwrap_or_default();
                let close = connection.contains("close") || (http10 && !connection.contains("keep-alive"));
                let head = Head {
                    method: req.method.unwrap_or("").to_string(),
                    path: req.path.unwrap_or("/").to_string(),
                    close,
                    bad: None,
                };
                Some((head, used))
            }
        }
    }

    /// Appends a framed response.
    fn frame(&mut self, r: &Response, head_only: bool) {
        let reason = match r.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            413 => "Payload Too Large",
            431 => "Request Header Fields Too Large",
            503 => "Service Unavailable",
            _ => "Unknown",
        };
        let connection = if self.close_after_write { "close" } else { "keep-alive" };
        let allow = r.allow.map_or_else(String::new, |a| format!("Allow: {a}\r\n"));
        let head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {connection}\r\n{allow}\r\n",
            r.status,
            r.content_type,
            r.body.len()
        );
        self.output.push(head.as_bytes());
        if !head_only {
            self.output.push(&r.body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that yields `input` in `chunk`-sized reads, then WouldBlock (or EOF when `eof`).
    struct Mock {
        input: Vec<u8>,
        chunk: usize,
        eof: bool,
        out: Vec<u8>,
    }

    impl Read for Mock {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.input.is_empty() {
                return if self.eof {
                    Ok(0)
                } else {
                    Err(io::ErrorKind::WouldBlock.into())
                };
            }
            let n = self.chunk.min(buf.len()).min(self.input.len());
            buf[..n].copy_from_slice(&self.input[..n]);
            self.input.drain(..n);
            Ok(n)
        }
    }

    impl Write for Mock {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.out.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn echo(method: &str, path: &str) -> Response {
        Response {
            status: 200,
            content_type: "text/plain",
            body: format!("{method} {path}").into_bytes(),
            allow: None,
        }
    }

    fn run(input: &[u8], chunk: usize, eof: bool) -> (String, bool) {
        let mut m = Mock {
            input: input.to_vec(),
            chunk,
            eof,
            out: Vec::new(),
        };
        let mut c = HttpConn::new();
        let mut open = true;
        for _ in 0..input.len() + 2 {
            open = c.on_ready(&mut m, &mut echo);
            if !open {
                break;
            }
        }
        (String::from_utf8_lossy(&m.out).into_owned(), open)
    }

    #[test]
    fn pipelined_requests_in_one_byte_pieces_are_answered_in_order() {
        let (out, open) = run(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 1, false);
        let a = out.find("GET /a").unwrap();
        let b = out.find("GET /b").unwrap();
        assert!(a < b, "{out}");
        assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2);
        assert!(out.contains("Content-Length: 6\r\n"));
        assert!(open, "keep-alive");
    }

    #[test]
    fn http10_and_connection_close_close_after_the_answer() {
        let (out, open) = run(b"GET /x HTTP/1.0\r\n\r\n", 64, false);
        assert!(out.contains("Connection: close") && !open, "{out}");
        let (out, open) = run(b"GET /x HTTP/1.1\r\nConnection: close\r\n\r\n", 64, false);
        assert!(out.contains("GET /x") && !open, "{out}");
    }

    #[test]
    fn head_has_no_body() {
        let (out, _) = run(b"HEAD /x HTTP/1.1\r\n\r\n", 64, false);
        assert!(out.ends_with("\r\n\r\n") && out.contains("Content-Length: 7"), "{out}");
    }

    #[test]
    fn bad_requests_get_4xx_and_close() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"GARBAGE\r\n\r\n".to_vec(), "400"),
            (b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".to_vec(), "413"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(), "413"),
            (
                [b"GET / HTTP/1.1\r\n".to_vec(), b"X: y\r\n".repeat(40), b"\r\n".to_vec()].concat(),
                "431",
            ),
            ([b"GET /".to_vec(), vec![b'a'; MAX_HEAD + 10]].concat(), "431"),
        ];
        for (input, status) in cases {
            let (out, open) = run(&input, 512, false);
            assert!(out.starts_with(&format!("HTTP/1.1 {status}")), "{status}: {out}");
            assert!(!open, "{status}: closed after the answer");
        }
    }

    #[test]
    fn a_request_cut_by_eof_is_answered_400_and_closed() {
        let (out, open) = run(b"GET /x HTT", 64, true);
        assert!(out.starts_with("HTTP/1.1 400") && !open, "{out}");
        let (out, open) = run(b"", 64, true);
        assert!(out.is_empty() && !open);
    }
}
