//! The ZooKeeper reply decoders and the master-info parsers on arbitrary bytes: they must never panic,
//! and what they accept must be consistent with the bytes (names inside the input, ports non-zero).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::mesos::zk::detect::{leader_node, master_addr};
use mesos_dns::internals::mesos::zk::proto::{
    decode_children, decode_connect_response, decode_data, decode_incoming, frame_len, Incoming,
};

fuzz_target!(|data: &[u8]| {
    if data.len() >= 4 {
        let _ = frame_len([data[0], data[1], data[2], data[3]]);
    }
    let _ = decode_connect_response(data);
    if let Ok(Incoming::Reply { body, .. }) = decode_incoming(data) {
        assert!(body.len() <= data.len());
        if let Ok(children) = decode_children(body) {
            assert!(children.len() * 4 <= body.len());
            if let Some(leader) = leader_node(&children) {
                assert!(children.contains(&leader));
            }
        }
        if let Ok(node) = decode_data(body) {
            assert!(node.len() <= body.len());
        }
    }
    for json in [true, false] {
        if let Ok(addr) = master_addr(data, json) {
            assert!(addr.port() != 0 && !addr.host().to_string().is_empty());
        }
    }
});
