//! The Mesos operator API (`/api/v1`, Mesos 1.0 and later) as far as the event stream uses it: where
//! a master serves it ([`api_url`]), the RecordIO framing of its streams ([`recordio`], pure), the
//! decoding of `SUBSCRIBE` events straight into the state types ([`event`], pure), and the HTTP
//! subscription on a thread of its own ([`client`]). What the events do to the picture of the cluster
//! is the refresher's ([`crate::refresh::model`]), and so is when to subscribe
//! ([`crate::refresh::stream`]).

pub(crate) mod client;
pub(crate) mod event;
pub(crate) mod recordio;

/// The operator API endpoint of the master a state document was read from:
/// `http://10.0.0.1:5050/master/state` -> `http://10.0.0.1:5050/api/v1`.
pub(crate) fn api_url(state_url: &str) -> Option<String> {
    let base = state_url
        .strip_suffix("/master/state")
        .or_else(|| state_url.strip_suffix("/master/state.json"))?;
    let authority = base.strip_prefix("http://").or_else(|| base.strip_prefix("https://"))?;
    (!authority.is_empty() && !authority.contains('/')).then(|| format!("{base}/api/v1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_url_is_the_state_url_host() {
        assert_eq!(
            api_url("http://10.0.0.1:5050/master/state").as_deref(),
            Some("http://10.0.0.1:5050/api/v1")
        );
        assert_eq!(
            api_url("https://[::1]:5050/master/state.json").as_deref(),
            Some("https://[::1]:5050/api/v1")
        );
        for bad in [
            "",
            "/master/state",
            "http:///master/state",
            "http://a/b/master/state",
            "file.json",
        ] {
            assert_eq!(api_url(bad), None, "{bad}");
        }
    }
}
