//! The connection's decisions on a fake clock: times are offsets from one `Instant`, nothing sleeps and
//! no socket is opened. The end-to-end side (a real socket, the real loop) is in tests/tcp.rs.

use super::*;

const LIMITS: TcpLimits = TcpLimits {
    max_connections: 512,
    idle_timeout: Duration::from_secs(10),
    max_pending_output: 256 * 1024,
};
const IDLE: Duration = LIMITS.idle_timeout;

/// Answers each query with its own ID followed by `pad` bytes, and records the IDs it saw; queries
/// whose ID is in `silent` get no answer now (as if dropped or relayed).
struct Echo {
    pad: usize,
    silent: Vec<u16>,
    seen: Vec<u16>,
    reply: Vec<u8>,
}

impl Echo {
    fn new(pad: usize) -> Echo {
        Echo {
            pad,
            silent: Vec::new(),
            seen: Vec::new(),
            reply: Vec::new(),
        }
    }
}

impl Respond for Echo {
    fn respond(&mut self, query: &[u8]) -> Option<&[u8]> {
        let id = u16::from_be_bytes([query[0], query[1]]);
        self.seen.push(id);
        if self.silent.contains(&id) {
            return None;
        }
        self.reply.clear();
        self.reply.extend_from_slice(&id.to_be_bytes());
        self.reply.resize(2 + self.pad, 0xaa);
        Some(&self.reply)
    }
}

/// A framed query with this ID (a 12-byte header, as far as the connection cares).
fn framed(id: u16) -> Vec<u8> {
    framed_len(id, 12)
}

/// A framed query with this ID, `len` bytes long.
fn framed_len(id: u16, len: u16) -> Vec<u8> {
    let mut q = vec![0u8; 2 + usize::from(len)];
    q[..2].copy_from_slice(&len.to_be_bytes());
    q[2..4].copy_from_slice(&id.to_be_bytes());
    q
}

/// Takes everything queued, as a client that reads would, and returns the IDs of the answers in it.
fn read_answers(conn: &mut DnsConn) -> Vec<u16> {
    let bytes = conn.output().pending().to_vec();
    let n = bytes.len();
    conn.output().wrote(n);
    let mut ids = Vec::new();
    let mut rest = &bytes[..];
    while let Some((answer, used)) = split_frame(rest) {
        ids.push(u16::from_be_bytes([answer[0], answer[1]]));
        rest = &rest[used..];
    }
    assert!(rest.is_empty(), "output is whole frames");
    ids
}

#[test]
fn pipelined_queries_are_answered_in_order() {
    let t0 = Instant::now();
    let mut conn = DnsConn::new(t0);
    let batch: Vec<u8> = (0..50).flat_map(framed).collect();
    conn.received(&batch);
    let mut echo = Echo::new(40);
    conn.answer_queries(t0, &LIMITS, &mut echo);
    assert_eq!(
        read_answers(&mut conn),
        (0..50).collect::<Vec<_>>(),
        "answers come in query order"
    );
    assert_eq!(conn.next(true), Next::Wait);
}

#[test]
fn queries_cut_anywhere_are_answered_once_whole() {
    let t0 = Instant::now();
    let mut conn = DnsConn::new(t0);
    let mut echo = Echo::new(0);
    let batch: Vec<u8> = (0..5).flat_map(framed).collect();
    let mut ids = Vec::new();
    for byte in &batch {
        conn.received(&[*byte]);
        conn.answer_queries(t0, &LIMITS, &mut echo);
        ids.extend(read_answers(&mut conn));
    }
    assert_eq!(ids, [0, 1, 2, 3, 4]);
    assert_eq!(echo.seen, [0, 1, 2, 3, 4], "each query answered once");
}

#[test]
fn slow_client_is_closed_after_the_idle_timeout() {
    // One byte every 700 ms of an A query for a Marathon task (12 + 26 bytes): it would take ~28 s. The
    // idle timeout is checked every 100 ms.
    let t0 = Instant::now();
    let mut conn = DnsConn::new(t0);
    let mut echo = Echo::new(0);
    let query = framed_len(7, 38);
    let (mut sent, mut closed_at) = (0, None);
    for tick in 0..200u64 {
        let now = t0 + Duration::from_millis(100 * tick);
        if conn.is_idle(now, &LIMITS) {
            closed_at = Some(now - t0);
            break;
        }
        if tick % 7 == 0 && sent < query.len() {
            conn.received(&query[sent..sent + 1]);
            sent += 1;
            conn.answer_queries(now, &LIMITS, &mut echo);
        }
    }
    assert!(sent < query.len(), "the slow client was allowed to finish its query");
    let waited = closed_at.expect("closed");
    assert!(waited >= IDLE - Duration::from_secs(1), "closed too early: {waited:?}");
    assert!(waited <= IDLE + Duration::from_millis(100), "closed late: {waited:?}");
    assert!(echo.seen.is_empty());
}

#[test]
fn length_prefix_without_body_is_closed_after_the_idle_timeout() {
    let t0 = Instant::now();
    let mut conn = DnsConn::new(t0);
    conn.received(&[0xff, 0xff]);
    conn.answer_queries(t0, &LIMITS, &mut Echo::new(0));
    assert!(conn.output().is_empty());
    assert!(conn.wants_input(&LIMITS), "it waits for the body");
    assert_eq!(conn.next(true), Next::Wait);
    assert!(!conn.is_idle(t0 + IDLE, &LIMITS), "closed too early");
    assert!(conn.is_idle(t0 + IDLE + Duration::from_millis(1), &LIMITS));
}

#[test]
fn client_that_never_reads_is_bounded_and_closed() {
    // Answers of ~600 bytes (SRV with additional records), queries pipelined without ever reading.
    let t0 = Instant::now();
    let mut conn = DnsConn::new(t0);
    let mut echo = Echo::new(600);
    let chunk: Vec<u8> = (0..1000).flat_map(|_| framed(9)).collect();
    let mut offered = 0usize;
    while conn.wants_input(&LIMITS) && offered < 200 << 20 {
        conn.received(&chunk);
        offered += chunk.len();
        conn.answer_queries(t0, &LIMITS, &mut echo);
    }
    assert!(
        !conn.wants_input(&LIMITS),
        "took {offered} bytes of queries without pushing back"
    );
    let queued = conn.output().len();
    assert!(queued >= LIMITS.max_pending_output, "{queued}");
    assert!(queued < LIMITS.max_pending_output + 2 + 602, "output bounded: {queued}");
    assert!(
        conn.input.len() - conn.answered <= MAX_PENDING_INPUT + chunk.len(),
        "input bounded"
    );
    // It has queries and answers waiting: it waits for a writable event, and completes no query meanwhile.
    assert_eq!(conn.next(false), Next::Wait);
    conn.answer_queries(t0 + IDLE, &LIMITS, &mut echo);
    assert!(conn.is_idle(t0 + IDLE + Duration::from_millis(1), &LIMITS));
    // Had it read, it would have been served on.
    read_answers(&mut conn);
    assert!(conn.wants_input(&LIMITS));
    assert_eq!(conn.next(false), Next::Again, "the queries left are answered at once");
}

#[test]
fn a_completed_query_restarts_the_idle_clock() {
    let t0 = Instant::now();
    let mut conn = DnsConn::new(t0);
    let at = t0 + Duration::from_secs(9);
    conn.received(&framed(1));
    conn.answer_queries(at, &LIMITS, &mut Echo::new(0));
    assert!(!conn.is_idle(at + IDLE, &LIMITS));
    assert!(conn.is_idle(at + IDLE + Duration::from_millis(1), &LIMITS));
}

#[test]
fn after_the_peer_half_closes_the_answers_are_written_then_it_closes() {
    let t0 = Instant::now();
    let mut conn = DnsConn::new(t0);
    let batch: Vec<u8> = (0..3).flat_map(framed).collect();
    conn.received(&batch);
    conn.peer_closed();
    assert!(!conn.wants_input(&LIMITS), "nothing more to read");
    assert_eq!(conn.next(false), Next::Again, "queries to answer first");
    conn.answer_queries(t0, &LIMITS, &mut Echo::new(0));
    assert_eq!(conn.next(false), Next::Wait, "answers to write first");
    assert_eq!(read_answers(&mut conn), [0, 1, 2]);
    assert_eq!(conn.next(false), Next::Close);
}

#[test]
fn a_query_cut_by_the_half_close_is_dropped_and_the_connection_closed() {
    let t0 = Instant::now();
    let mut conn = DnsConn::new(t0);
    conn.received(&framed(1)[..5]);
    conn.peer_closed();
    conn.answer_queries(t0, &LIMITS, &mut Echo::new(0));
    assert!(conn.output().is_empty());
    assert_eq!(conn.next(false), Next::Close);
}

#[test]
fn unanswered_queries_write_nothing_and_relayed_answers_come_when_they_arrive() {
    let t0 = Instant::now();
    let mut conn = DnsConn::new(t0);
    let mut echo = Echo::new(0);
    echo.silent.push(1);
    let batch: Vec<u8> = (0..3).flat_map(framed).collect();
    conn.received(&batch);
    let later = t0 + Duration::from_secs(5);
    conn.answer_queries(later, &LIMITS, &mut echo);
    assert_eq!(read_answers(&mut conn), [0, 2], "query 1 waits for its resolver");
    assert!(!conn.is_idle(later + IDLE, &LIMITS), "a relayed query completes too");
    conn.push_relayed(&1u16.to_be_bytes());
    assert_eq!(read_answers(&mut conn), [1]);
}

#[test]
fn it_goes_round_again_only_while_there_is_work() {
    let t0 = Instant::now();
    let mut conn = DnsConn::new(t0);
    assert_eq!(conn.next(true), Next::Wait, "nothing read, nothing to do");
    assert_eq!(conn.next(false), Next::Again, "bytes may be left in the socket");
    conn.received(&framed(1));
    assert_eq!(conn.next(true), Next::Again, "a whole query is buffered");
}

/// Starts an AXFR of a 5000-task zone for the query with ID 1; echoes the others.
struct Xfr {
    echo: Echo,
    records: std::sync::Arc<crate::snapshot::Records>,
    started: Option<Box<Transfer>>,
}

impl Respond for Xfr {
    fn respond(&mut self, query: &[u8]) -> Option<&[u8]> {
        if query[..2] == [0, 1] {
            let question = b"\x05mesos\x00\x00\xfc\x00\x01";
            let t = Transfer::new(self.records.clone(), crate::transfer::Plan::Axfr, 1, question, 0, None);
            self.started = Some(Box::new(t));
            return None;
        }
        self.echo.respond(query)
    }

    fn take_transfer(&mut self) -> Option<Box<Transfer>> {
        self.started.take()
    }
}

#[test]
fn a_transfer_is_queued_as_the_client_reads_and_later_queries_wait_for_its_end() {
    let mut list = crate::snapshot::RecordList::new();
    for i in 0..5000u32 {
        list.push(
            &format!("task{i}.marathon.mesos."),
            crate::snapshot::RData::A(std::net::Ipv4Addr::from(0x0a00_0000 + i)),
        );
    }
    let records = crate::snapshot::Records::build(crate::snapshot::Zone::of_default_config(), &list, 1);
    let mut xfr = Xfr {
        echo: Echo::new(0),
        records: std::sync::Arc::new(records),
        started: None,
    };
    let t0 = Instant::now();
    let mut conn = DnsConn::new(t0);
    conn.received(&[framed(1), framed(2)].concat());
    let mut ids = Vec::new();
    for round in 0..100 {
        conn.answer_queries(t0, &LIMITS, &mut xfr);
        let queued = conn.output().len();
        assert!(queued <= TRANSFER_QUEUE + 40 * 1024, "{queued} bytes queued");
        let before = ids.len();
        ids.extend(read_answers(&mut conn));
        if ids.last() == Some(&2) {
            break;
        }
        assert!(ids.len() > before, "round {round} made progress");
        assert_eq!(conn.next(true), Next::Again, "more of the transfer to make");
    }
    let messages = ids.iter().filter(|&&id| id == 1).count();
    assert!(messages > 3, "{messages} messages");
    assert_eq!(
        ids.len(),
        messages + 1,
        "the echo came once, after the transfer: {ids:?}"
    );
    assert_eq!(xfr.echo.seen, [2]);
    assert_eq!(conn.next(true), Next::Wait);
}
