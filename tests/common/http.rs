//! The HTTP/1.1 server core of the fake masters and the fake login endpoint: an accept loop on a
//! loopback address (a stop flag, a bounded number of connections, one request per connection), over
//! plain TCP or TLS (rustls, given a server config), the request as read (method, path, headers,
//! body), and the ways to answer it: a whole body, a body written as it goes, a chunked stream that
//! stays open, or no answer at all. What to answer is the handler's business.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// At most this many connections per server (a bound on its accept loop).
const MAX_CONNECTIONS: usize = 100_000;
/// At most this many header lines are read per request.
const MAX_HEADERS: usize = 100;
/// Request bodies longer than this are cut here.
const MAX_BODY: usize = 1 << 20;
/// How long a client may take to send its request, and a write may block.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A request as the fakes read it.
pub struct Request {
    pub method: String,
    /// The path without its query string.
    pub path: String,
    /// Header names in lower case, values trimmed, in the order sent.
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An accepted connection: plain TCP, or TLS over it (its handshake done by the first read).
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(tcp) => tcp,
            Conn::Tls(tls) => &tls.sock,
        }
    }

    /// Ends a body that the connection's close ends: with TLS, says so (close_notify) first.
    pub fn finish(mut self) -> io::Result<()> {
        if let Conn::Tls(tls) = &mut self {
            tls.conn.send_close_notify();
        }
        self.flush()
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(tcp) => tcp.read(buf),
            Conn::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(tcp) => tcp.write(buf),
            Conn::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(tcp) => tcp.flush(),
            Conn::Tls(tls) => tls.flush(),
        }
    }
}

/// The connection a request came on, to be answered once (every answer ends with `Connection: close`).
pub struct Reply {
    conn: Conn,
}

impl Reply {
    /// Answers `status` with this JSON body.
    pub fn send(self, status: u16, body: &[u8]) -> io::Result<()> {
        let mut out = self.send_head(status, "application/json", Some(body.len() as u64))?;
        out.write_all(body)?;
        out.finish()
    }

    /// Writes the status line and headers; the body follows on the returned connection. With a
    /// `length` it is announced in `Content-Length`, else the body ends when the connection closes;
    /// either way [`Conn::finish`] ends it.
    pub fn send_head(self, status: u16, content_type: &str, length: Option<u64>) -> io::Result<Conn> {
        let mut out = self.conn;
        let length = length.map_or(String::new(), |n| format!("Content-Length: {n}\r\n"));
        write!(
            out,
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\n{length}Connection: close\r\n\r\n",
            reason(status)
        )?;
        Ok(out)
    }

    /// Answers `status` with a chunked body that stays open for [`Chunked::send`].
    pub fn start_chunked(self, status: u16, content_type: &str) -> io::Result<Chunked> {
        let mut out = self.conn;
        write!(
            out,
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n",
            reason(status)
        )?;
        out.flush()?;
        Ok(Chunked { conn: out })
    }

    /// Never answers: the connection stays open for as long as the caller keeps it.
    pub fn hold(self) -> Conn {
        self.conn
    }
}

/// An open chunked response body.
pub struct Chunked {
    conn: Conn,
}

impl Chunked {
    /// Sends `data` as one chunk; fails once the client has gone.
    pub fn send(&mut self, data: &[u8]) -> io::Result<()> {
        let mut chunk = format!("{:x}\r\n", data.len()).into_bytes();
        chunk.extend_from_slice(data);
        chunk.extend_from_slice(b"\r\n");
        self.conn.write_all(&chunk)?;
        self.conn.flush()
    }

    /// Breaks the stream off without its last chunk, as a master that goes away does.
    pub fn break_off(&self) {
        let _ = self.conn.tcp().shutdown(Shutdown::Both);
    }
}

/// An HTTP(S) server on a loopback address, answering one request per connection with `handler` on
/// its own thread, one connection at a time. Stops (and closes its port) on [`HttpServer::stop`] or
/// drop.
pub struct HttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Listens on `ip:port` (port 0: any free one), which must be a loopback address; with `tls`,
    /// speaks HTTPS. Fails if it cannot bind. `name` names the thread.
    pub fn start(
        ip: IpAddr,
        port: u16,
        tls: Option<Arc<ServerConfig>>,
        name: &str,
        mut handler: impl FnMut(Request, Reply) + Send + 'static,
    ) -> io::Result<HttpServer> {
        assert!(
            ip.is_loopback(),
            "a fake HTTP server listens on loopback only, not {ip}"
        );
        let listener = TcpListener::bind((ip, port))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = thread::Builder::new()
            .name(format!("{name}-{}", addr.port()))
            .spawn(move || {
                for conn in listener.incoming().take(MAX_CONNECTIONS) {
                    if stopping.load(Ordering::SeqCst) {
                        break; // dropping the listener closes the port
                    }
                    let Some(mut conn) = conn.ok().and_then(|tcp| wrap(tcp, tls.as_ref())) else {
                        continue;
                    };
                    // A connection that sends no request (the wake-up from `stop`, a client that gave
                    // up or failed the TLS handshake) is closed unanswered.
                    if let Some(request) = read_request(&mut conn) {
                        handler(request, Reply { conn });
                    }
                }
            })?;
        Ok(HttpServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// A server on 127.0.0.1 at any free port; panics if it cannot bind.
    pub fn start_local(name: &str, handler: impl FnMut(Request, Reply) + Send + 'static) -> HttpServer {
        HttpServer::start(IpAddr::from([127, 0, 0, 1]), 0, None, name, handler)
            .unwrap_or_else(|e| panic!("bind {name} on loopback: {e}"))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and closes the listening socket; returns once the accept loop has ended.
    pub fn stop(&mut self) {
        let Some(thread) = self.thread.take() else { return };
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so that the loop sees the flag and drops the listener.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        let _ = thread.join();
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The accepted socket with its timeouts set, and TLS over it if `tls`.
fn wrap(tcp: TcpStream, tls: Option<&Arc<ServerConfig>>) -> Option<Conn> {
    tcp.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
    tcp.set_write_timeout(Some(IO_TIMEOUT)).ok()?;
    Some(match tls {
        None => Conn::Plain(tcp),
        Some(config) => {
            let session = ServerConnection::new(config.clone()).ok()?;
            Conn::Tls(Box::new(StreamOwned::new(session, tcp)))
        }
    })
}

/// Reads the request line, the headers and a `Content-Length` body; `None` if the connection closes
/// or times out first, or the request is not HTTP. (Bytes after the body are dropped: one request per
/// connection.)
fn read_request(conn: &mut Conn) -> Option<Request> {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut words = line.split_whitespace();
    let method = words.next()?.to_owned();
    let target = words.next()?;
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    for _ in 0..MAX_HEADERS {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let length: usize = request.header("content-length").map_or(Some(0), |v| v.parse().ok())?;
    request.body = vec![0; length.min(MAX_BODY)];
    reader.read_exact(&mut request.body).ok()?;
    Some(request)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
