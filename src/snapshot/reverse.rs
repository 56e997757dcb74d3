//! Reverse-lookup names (`PTROn`): the `in-addr.arpa` / `ip6.arpa` name of an address (RFC 1035 3.5,
//! RFC 3596 2.5) in wire form, and the policy of how many names one address points back to. Which
//! addresses get PTR records is decided by generation; storing and answering them by the snapshot and
//! the answer function, like any other name.

/// At most this many PTR records at one address, the first ones generated (in the order the master
/// lists frameworks and tasks). Only a container address shared by several tasks (a pod, or bridge
/// addresses that repeat across agents) gets near it: each task gives two names.
pub(crate) const MAX_PTRS_PER_ADDRESS: usize = 4;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes the lower-case wire form of the reverse name of `octets` (4: `d.c.b.a.in-addr.arpa.`, 16:
/// thirty-two nibbles then `ip6.arpa.`) into `out`. Any other length gives the root name.
pub(crate) fn reverse_name(octets: &[u8], out: &mut Vec<u8>) {
    out.clear();
    match octets.len() {
        4 => {
            for &o in octets.iter().rev() {
                let start = out.len();
                out.push(0);
                let mut digits = [0u8; 3];
                let mut n = 0;
                let mut v = o;
                loop {
                    digits[n] = b'0' + v % 10;
                    n += 1;
                    v /= 10;
                    if v == 0 {
                        break;
                    }
                }
                out.extend(digits[..n].iter().rev());
                out[start] = n as u8;
            }
            out.extend_from_slice(b"\x07in-addr\x04arpa\x00");
        }
        16 => {
            for &o in octets.iter().rev() {
                out.extend_from_slice(&[1, HEX[usize::from(o & 0xf)], 1, HEX[usize::from(o >> 4)]]);
            }
            out.extend_from_slice(b"\x03ip6\x04arpa\x00");
        }
        _ => out.push(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::wire_of;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn ipv4_reverse_name_has_the_octets_backwards_in_decimal() {
        let mut out = Vec::new();
        reverse_name(&Ipv4Addr::new(10, 114, 227, 92).octets(), &mut out);
        assert_eq!(out, wire_of("92.227.114.10.in-addr.arpa."));
        reverse_name(&Ipv4Addr::new(0, 9, 100, 255).octets(), &mut out);
        assert_eq!(out, wire_of("255.100.9.0.in-addr.arpa."));
    }

    #[test]
    fn ipv6_reverse_name_has_the_nibbles_backwards_in_lower_case_hex() {
        let mut out = Vec::new();
        let ip: Ipv6Addr = "2001:db8::567:89AB".parse().unwrap();
        reverse_name(&ip.octets(), &mut out);
        assert_eq!(
            out,
            wire_of("b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.")
        );
        assert_eq!(out.len(), 32 * 2 + 10);
    }

    #[test]
    fn other_lengths_give_the_root() {
        let mut out = vec![1, 2, 3];
        reverse_name(&[1, 2], &mut out);
        assert_eq!(out, [0]);
    }
}
