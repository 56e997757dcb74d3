//! One HTTP/1.1 server connection over a non-blocking stream: bounded request heads parsed with
//! `httparse`, no request bodies, keep-alive and pipelined requests answered in order, bounded output,
//! and the time of its last progress for the loop's idle timeout. Generic over the stream, so it is
//! tested with an in-memory one.
//!
//! A streamed body ([`Body::Streamed`]) is written one chunk of at most [`CHUNK`] bytes (plus one
//! value) per call, with chunked transfer encoding (HTTP/1.0: to the end of the connection), and the
//! next chunk is made only once the socket took the last one whole: the connection holds one chunk,
//! whatever the document's size. Requests behind it wait. Its progress (a chunk taken) restarts the
//! idle clock, so a client that does not take a chunk within the idle timeout is closed.

use std::io::{self, Read, Write};
use std::time::Instant;

use super::body::{Body, Cursor, Fill};
use super::Response;
use crate::wire::tcp::OutBuf;

/// The largest request head accepted.
pub(crate) const MAX_HEAD: usize = 8 * 1024;
/// The most headers accepted.
pub(crate) const MAX_HEADERS: usize = 32;
/// Responses waiting for a client that does not read, at most; past that requests wait.
const MAX_OUTPUT: usize = 1 << 20;
/// The most bytes of a streamed body made per call (one turn of the event loop), past one value.
pub(crate) const CHUNK: usize = 64 * 1024;

/// What the connection needs after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Close it.
    Close,
    /// Nothing until its socket is ready again.
    Wait,
    /// The socket took the whole chunk of a streamed body: call again on the next turn without waiting
    /// for an event (none would come).
    Busy,
}

/// A body being written.
struct Streaming {
    cursor: Box<dyn Cursor>,
    /// Chunked transfer encoding (HTTP/1.1); else the body ends with the connection.
    chunked: bool,
}

/// One HTTP connection's buffers.
pub struct HttpConn {
    input: Vec<u8>,
    output: OutBuf,
    close_after_write: bool,
    peer_closed: bool,
    streaming: Option<Streaming>,
    /// Scratch for the next chunk of `streaming`.
    chunk: Vec<u8>,
    /// When the last request was answered, the last chunk made (or the connection opened).
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
    http10: bool,
    bad: Option<(u16, &'static str)>,
}

impl HttpConn {
    /// A connection before its first byte.
    pub fn new() -> HttpConn {
        HttpConn {
            input: Vec::new(),
            output: OutBuf::default(),
            close_after_write: false,
            peer_closed: false,
            streaming: None,
            chunk: Vec::new(),
            last_activity: Instant::now(),
        }
    }

    /// Whether a streamed body is being written.
    pub fn is_streaming(&self) -> bool {
        self.streaming.is_some()
    }

    /// Reads what is there, answers every complete request with `handle(method, path)` (HEAD: the body
    /// is left out), makes at most one chunk of a streamed body and writes what the stream takes.
    pub fn on_ready<S: Read + Write>(
        &mut self,
        stream: &mut S,
        handle: &mut dyn FnMut(&str, &str) -> Response,
    ) -> Progress {
        if !self.read(stream) {
            return Progress::Close;
        }
        let mut made_chunk = false;
        loop {
            self.answer(handle);
            if !self.output.flush_to(stream) {
                return Progress::Close;
            }
            if self.streaming.is_none() || !self.output.is_empty() {
                break;
            }
            if made_chunk {
                return Progress::Busy;
            }
            self.next_chunk();
            made_chunk = true;
        }
        let drained = self.output.is_empty() && self.streaming.is_none();
        if drained && (self.close_after_write || (self.peer_closed && self.input.is_empty())) {
            Progress::Close
        } else {
            Progress::Wait
        }
    }

    /// Reads while there is room; false on a fatal error.
    fn read<S: Read>(&mut self, stream: &mut S) -> bool {
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
        true
    }

    /// Answers the complete requests in the input, until one has a streamed body.
    fn answer(&mut self, handle: &mut dyn FnMut(&str, &str) -> Response) {
        while !self.close_after_write && self.streaming.is_none() && self.output.len() < MAX_OUTPUT {
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
                        body: Body::Whole(body),
                        allow: None,
                    }
                }
                None => handle(&head.method, &head.path),
            };
            self.close_after_write |= head.close;
            self.frame(response, &head);
        }
    }

    /// Makes the next chunk of the streamed body, and the end of the body after the last.
    fn next_chunk(&mut self) {
        let Some(s) = &mut self.streaming else { return };
        self.last_activity = Instant::now();
        self.chunk.clear();
        let fill = s.cursor.fill(&mut self.chunk, CHUNK);
        if !self.chunk.is_empty() {
            if s.chunked {
                self.output.push(format!("{:x}\r\n", self.chunk.len()).as_bytes());
                self.output.push(&self.chunk);
                self.output.push(b"\r\n");
            } else {
                self.output.push(&self.chunk);
            }
        }
        if fill == Fill::Done {
            if s.chunked {
                self.output.push(b"0\r\n\r\n");
            }
            self.streaming = None;
            self.chunk = Vec::new();
        }
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
                    http10: false,
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
                    http10,
                    bad: None,
                };
                Some((head, used))
            }
        }
    }

    /// Appends a framed response (its head, and its body unless `head` is a HEAD request); a streamed
    /// body is started.
    fn frame(&mut self, r: Response, head: &Head) {
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
        let framing = match &r.body {
            Body::Whole(bytes) => format!("Content-Length: {}", bytes.len()),
            Body::Streamed(_) if head.http10 => {
                self.close_after_write = true;
                String::new()
            }
            Body::Streamed(_) => "Transfer-Encoding: chunked".to_owned(),
        };
        let connection = if self.close_after_write { "close" } else { "keep-alive" };
        let allow = r.allow.map_or_else(String::new, |a| format!("Allow: {a}\r\n"));
        let mut text = format!("HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\n", r.status, r.content_type);
        if !framing.is_empty() {
            text.push_str(&framing);
            text.push_str("\r\n");
        }
        text.push_str(&format!("Connection: {connection}\r\n{allow}\r\n"));
        self.output.push(text.as_bytes());
        if head.method == "HEAD" {
            return;
        }
        match r.body {
            Body::Whole(bytes) => self.output.push(&bytes),
            Body::Streamed(cursor) => {
                self.streaming = Some(Streaming {
                    cursor,
                    chunked: !head.http10,
                })
            }
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
            body: Body::Whole(format!("{method} {path}").into_bytes()),
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
            open = c.on_ready(&mut m, &mut echo) != Progress::Close;
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

    /// A document of `left` bytes of `x`, as many per fill as the budget says.
    struct Letters {
        left: usize,
    }

    impl Cursor for Letters {
        fn fill(&mut self, out: &mut Vec<u8>, budget: usize) -> Fill {
            let n = budget.min(self.left);
            out.resize(out.len() + n, b'x');
            self.left -= n;
            if self.left == 0 {
                Fill::Done
            } else {
                Fill::More
            }
        }
    }

    fn letters(method: &str, path: &str) -> Response {
        match path {
            "/big" => Response {
                status: 200,
                content_type: "text/plain",
                body: Body::Streamed(Box::new(Letters { left: CHUNK * 2 + 5 })),
                allow: None,
            },
            _ => echo(method, path),
        }
    }

    /// Calls `on_ready` until it waits; the output and how many calls said Busy.
    fn stream(input: &[u8]) -> (Vec<u8>, usize, HttpConn, Progress) {
        let mut m = Mock {
            input: input.to_vec(),
            chunk: 4096,
            eof: false,
            out: Vec::new(),
        };
        let mut c = HttpConn::new();
        let mut busy = 0;
        loop {
            match c.on_ready(&mut m, &mut letters) {
                Progress::Busy => busy += 1,
                done => return (m.out, busy, c, done),
            }
            assert!(busy < 100, "never finishes");
        }
    }

    #[test]
    fn a_streamed_body_is_chunked_one_chunk_per_call_then_the_next_request_is_answered() {
        let (out, busy, c, end) = stream(b"GET /big HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n");
        let text = String::from_utf8_lossy(&out).into_owned();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains("Transfer-Encoding: chunked") && !head.contains("Content-Length"),
            "{head}"
        );
        let x = "x".repeat(CHUNK);
        let want_body = format!("{:x}\r\n{x}\r\n{:x}\r\n{x}\r\n5\r\nxxxxx\r\n0\r\n\r\n", CHUNK, CHUNK);
        assert!(rest.starts_with(&want_body), "three chunks and the end");
        assert!(
            rest[want_body.len()..].starts_with("HTTP/1.1 200 OK"),
            "then the pipelined request"
        );
        assert!(rest.ends_with("GET /after"));
        assert_eq!(busy, 2, "a chunk per call: two calls came back for more");
        assert!(!c.is_streaming() && end == Progress::Wait);
    }

    #[test]
    fn a_streamed_body_to_http10_ends_with_the_connection_and_head_has_none() {
        let (out, _, _, end) = stream(b"GET /big HTTP/1.0\r\n\r\n");
        let text = String::from_utf8_lossy(&out).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            !head.contains("chunked") && head.contains("Connection: close"),
            "{head}"
        );
        assert_eq!(body.len(), CHUNK * 2 + 5);
        assert_eq!(end, Progress::Close);
        let (out, busy, _, _) = stream(b"HEAD /big HTTP/1.1\r\n\r\n");
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(
            text.ends_with("Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"),
            "{text}"
        );
        assert_eq!(busy, 0);
    }

    #[test]
    fn a_client_that_does_not_read_holds_one_chunk() {
        struct Full;
        impl Read for Full {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::ErrorKind::WouldBlock.into())
            }
        }
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::WouldBlock.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut m = Mock {
            input: b"GET /big HTTP/1.1\r\n\r\n".to_vec(),
            chunk: 4096,
            eof: false,
            out: Vec::new(),
        };
        let mut c = HttpConn::new();
        assert_eq!(c.on_ready(&mut Full, &mut letters), Progress::Wait);
        let _ = c.on_ready(&mut m, &mut letters); // reads the request; the head goes out
        for _ in 0..10 {
            assert_eq!(c.on_ready(&mut Full, &mut letters), Progress::Wait);
        }
        assert!(c.output.len() <= CHUNK + 16, "{} bytes queued", c.output.len());
        assert!(c.is_streaming());
    }
}
