//! Fetching the state document from the leading master over HTTP (blocking, used by the refresher thread).
