//! The instructions one rate-limit decision costs, for callgrind: `rrl_cost MODE N` decides N
//! responses; MODE `off` (no limiter: the check the UDP path makes with `rateLimit` 0), `flood` (one
//! network over its limit), `spread` (a new network each time, taking slots from others).
//! Instructions per decision = (Ir(N) - Ir(0)) / N.
use mesos_dns::internals::rrl::{Limiter, RateLimit, Verdict};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(Ok(n))) = (args.next(), args.next().map(|n| n.parse::<u32>())) else {
        eprintln!("usage: rrl_cost off|flood|spread N");
        return;
    };
    let t0 = Instant::now();
    let mut limiter = (mode != "off").then(|| Limiter::new(RateLimit { rate: 100, slip: 2 }, t0));
    let mut sent = 0u32;
    for i in 0..n {
        let ip = match mode.as_str() {
            "spread" => IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + (i << 8))),
            _ => IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
        };
        let now = t0 + Duration::from_micros(u64::from(i));
        let verdict = limiter
            .as_mut()
            .map_or(Verdict::Send, |l| l.check(black_box(ip), false, now));
        sent += u32::from(black_box(verdict) == Verdict::Send);
    }
    println!("{sent} of {n} sent");
}
