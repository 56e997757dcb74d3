use std::io::BufReader;

use super::*;

/// A stream that hands out at most `chunk` bytes per read, counting what has been taken from it.
struct Trickle<'a> {
    data: &'a [u8],
    chunk: usize,
    taken: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len() - self.taken);
        buf[..n].copy_from_slice(&self.data[self.taken..self.taken + n]);
        self.taken += n;
        Ok(n)
    }
}

fn frames(data: &[u8], chunk: usize, max: u64) -> Frames<BufReader<Trickle<'_>>> {
    Frames::new(BufReader::new(Trickle { data, chunk, taken: 0 }), max)
}

fn all<R: BufRead>(f: &mut Frames<R>) -> Result<Vec<Vec<u8>>, FrameError> {
    let mut out = Vec::new();
    while let Some(length) = f.next_length()? {
        let mut record = Vec::new();
        f.body(length).read_to_end(&mut record).map_err(FrameError::Io)?;
        out.push(record);
    }
    Ok(out)
}

#[test]
fn records_split_at_any_byte_come_out_whole() {
    let stream = [encode(br#"{"type":"SUBSCRIBED"}"#), encode(b""), encode(b"{\"a\":\n1}")].concat();
    for chunk in 1..=stream.len() {
        let got = all(&mut frames(&stream, chunk, 1024)).unwrap();
        assert_eq!(
            got,
            vec![
                br#"{"type":"SUBSCRIBED"}"#.to_vec(),
                Vec::new(),
                b"{\"a\":\n1}".to_vec()
            ],
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_record_is_read_as_it_arrives_not_held_whole() {
    let record = vec![b'x'; 1 << 20];
    let stream = encode(&record);
    let mut f = frames(&stream, 64 * 1024, 1 << 30);
    let length = f.next_length().unwrap().unwrap();
    assert_eq!(length, 1 << 20);
    {
        let mut body = f.body(length);
        let mut first = [0u8; 10];
        body.read_exact(&mut first).unwrap();
        assert_eq!(body.left(), (1 << 20) - 10);
    }
    // Only the reader's own buffer has been taken from the stream, not the megabyte.
    let taken = f.inner.get_ref().taken;
    assert!(taken <= 64 * 1024, "{taken} bytes taken from the stream");
    // The rest can be skipped, and the stream then ends between records.
    let mut body = f.body((1 << 20) - 10);
    skip(&mut body).unwrap();
    assert_eq!(body.left(), 0);
    assert!(f.next_length().unwrap().is_none());
}

#[test]
fn garbage_and_oversized_records_are_errors() {
    for bad in [
        &b"abc\n{}"[..],
        b"\n",
        b"-1\n",
        b"1 2\nxx",
        b"123456789012345678901234\n",
        b"99999999999999999999\n",
    ] {
        let err = frames(bad, 1, 1024).next_length();
        assert!(matches!(err, Err(FrameError::BadLength(_))), "{bad:?}: {err:?}");
    }
    assert!(
        matches!(
            frames(b"<html>", 1, 1024).next_length(),
            Err(FrameError::BadLength(s)) if s == "<"
        ),
        "not a digit: no need to wait for the newline"
    );
    assert!(matches!(
        frames(b"11\n", 1, 10).next_length(),
        Err(FrameError::TooBig { length: 11, max: 10 })
    ));
    assert!(
        matches!(
            frames(&[b'9'; 21], 1, u64::MAX).next_length(),
            Err(FrameError::BadLength(_))
        ),
        "too many digits without a newline"
    );
}

#[test]
fn a_stream_ending_inside_a_record_is_an_error_and_between_records_is_not() {
    assert!(frames(b"", 1, 1024).next_length().unwrap().is_none());
    assert!(matches!(
        frames(b"12", 1, 1024).next_length(),
        Err(FrameError::Truncated)
    ));
    let mut f = frames(b"10\n12345", 3, 1024);
    let length = f.next_length().unwrap().unwrap();
    let mut record = Vec::new();
    let err = f.body(length).read_to_end(&mut record).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert_eq!(record, b"12345", "what had arrived was read");
}
