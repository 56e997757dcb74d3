//! The DNS wire format (RFC 1035, RFC 6891): zero-copy views of received messages and an encoder.
