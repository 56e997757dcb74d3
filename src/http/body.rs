//! Response bodies: whole (small documents, built at once) or streamed by a [`Cursor`], a resumable
//! producer that writes the next piece of a document into a buffer when asked and remembers where it
//! stopped. A cursor owns what it reads (an `Arc` of the snapshot the request started with), so the
//! document never exists whole in memory and a refresh that swaps the snapshot mid-response does not
//! change it. The HTTP connection asks for one bounded chunk per turn of the event loop
//! ([`super::conn`]); DNS zone transfers can be written by the same kind of cursor.

use std::fmt::Display;
use std::io::Write;

/// What a [`Cursor`] has left after one [`fill`](Cursor::fill).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// More to come: call again.
    More,
    /// The document is complete.
    Done,
}

/// A document written piece by piece.
pub trait Cursor {
    /// Appends the next part of the document to `out`: at least `budget` bytes unless the document
    /// ends first, and past it by at most one value (one address, one record, one name). May append
    /// nothing and say `More` after bounded work (a scan over records that matched nothing).
    fn fill(&mut self, out: &mut Vec<u8>, budget: usize) -> Fill;
}

/// A response body.
pub enum Body {
    Whole(Vec<u8>),
    Streamed(Box<dyn Cursor>),
}

impl Body {
    /// The whole document (runs a cursor to its end): for tests and small documents.
    #[cfg(test)]
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Body::Whole(bytes) => bytes,
            Body::Streamed(mut cursor) => {
                let mut out = Vec::new();
                while cursor.fill(&mut out, 64 * 1024) == Fill::More {}
                out
            }
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Whole(bytes) => write!(f, "Whole({} bytes)", bytes.len()),
            Body::Streamed(_) => f.write_str("Streamed"),
        }
    }
}

/// Appends `text` as a JSON string, escaped exactly as `serde_json` writes it (the whole-document
/// routes use it, so both kinds of body agree byte for byte).
pub(crate) fn json_str(out: &mut Vec<u8>, text: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Appends a value's `Display` form as a JSON string (addresses, `target:port`): none of them has a
/// character JSON escapes.
pub(crate) fn json_display(out: &mut Vec<u8>, value: impl Display) {
    let _ = write!(out, "\"{value}\"");
}

/// Appends a number.
pub(crate) fn json_number(out: &mut Vec<u8>, n: impl Into<u64>) {
    let _ = write!(out, "{}", n.into());
}
