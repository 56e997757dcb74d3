//! config.json, arbitrary bytes, through `Config::from_json` and what is built from a config at start
//! (the zone and the resolver lists); an accepted config must survive its own `/v1/config` rendering
//! (`to_json` loads again to the same rendering). The same text also goes through the
//! `/etc/resolv.conf` parser, the other file read at start.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::config::Config;
use mesos_dns::internals::forward::{parse_resolv_conf, Upstreams};
use mesos_dns::internals::records::zone;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_resolv_conf(text);
    let Ok((config, _warnings)) = Config::from_json(text) else {
        return;
    };
    let rendered = config.to_json();
    let (again, _) = Config::from_json(&rendered.to_string()).expect("the rendered config loads again");
    assert_eq!(again.to_json(), rendered, "rendering is stable");
    let _ = zone(&config);
    let _ = Upstreams::new(&config, Some(text), "127.0.0.1:53".parse().expect("addr"));
});
