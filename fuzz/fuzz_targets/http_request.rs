//! HTTP request bytes, arbitrary, through the API connection (`http::conn`, httparse underneath) and the
//! router against a snapshot of the tutorial cluster. The first input byte sets how the stream is cut
//! into reads (1 to 256 bytes each, the rest are the client's bytes). Whatever is sent, the connection
//! only ever writes whole `HTTP/1.1` responses and, once the client has finished sending, closes within
//! a bounded number of readiness events.
#![no_main]

use std::io::{self, Read, Write};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::config::Config;
use mesos_dns::internals::http::conn::{HttpConn, Progress};
use mesos_dns::internals::http::{route, ApiContext, Response};
use mesos_dns::internals::snapshot::Records;

fn snapshot() -> &'static (Config, Arc<Records>) {
    static SNAPSHOT: OnceLock<(Config, Arc<Records>)> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let config = Config::default();
        let body = include_bytes!("../../tests/fixtures/tutorial-0.21.json");
        let masters = [mesos_dns::internals::addr::HostPort::parse("127.0.0.1:5050").expect("an address")];
        let (records, list) = mesos_dns::internals::records::from_state::build_snapshot(&config, body, &masters, &[], &|_| Vec::new(), 1)
            .expect("tutorial-0.21.json builds");
        (config, Arc::new(records.with_list(list)))
    })
}

/// The client: its bytes in reads of `chunk`, then end of stream; everything written is kept.
struct Client<'a> {
    input: &'a [u8],
    chunk: usize,
    out: Vec<u8>,
}

impl Read for Client<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for Client<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, input)) = data.split_first() else {
        return;
    };
    let (config, records) = snapshot();
    let ctx = ApiContext {
        config,
        records,
        readiness: Err("no refresh yet".into()),
        metrics: &|| "mesosdns_queries_total 1\n".into(),
    };
    let mut handle = |method: &str, path: &str| -> Response { route(method, path, &ctx) };
    let mut client = Client {
        input,
        chunk: usize::from(cut) + 1,
        out: Vec::new(),
    };
    let mut conn = HttpConn::new();
    // Each event reads until end of stream, so the connection must be done after a couple of events
    // (more only while more than 1 MiB of answers waits to be written, or a streamed document's chunks:
    // the tutorial's are one chunk each, one turn per streamed request).
    let mut closed = false;
    for _ in 0..2 + input.len() / 16 + input.len() / 8 {
        if conn.on_ready(&mut client, &mut handle) == Progress::Close {
            closed = true;
            break;
        }
    }
    assert!(closed, "the connection closes after the client's end of stream");
    assert!(
        client.out.is_empty() || client.out.starts_with(b"HTTP/1.1 "),
        "only responses are written"
    );
});
