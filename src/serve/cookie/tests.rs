use super::*;

fn hex<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0; N];
    assert_eq!(s.len(), 2 * N, "{s}");
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[test]
fn siphash_matches_the_reference_vectors() {
    // The reference implementation's vectors: key 00..0f, message 00..(n-1).
    let key: Secret = core::array::from_fn(|i| i as u8);
    let data: Vec<u8> = (0..64).collect();
    let want: [(usize, u64); 6] = [
        (0, 0x726f_db47_dd0e_0e31),
        (1, 0x74f8_39c5_93dc_67fd),
        (2, 0x0d6c_8009_d9a9_4f5a),
        (3, 0x8567_6696_d7fb_7e2d),
        (15, 0xa129_ca61_49be_45e5),
        (63, 0x958a_324c_eb06_4572),
    ];
    for (n, hash) in want {
        assert_eq!(siphash24(&key, &data[..n]), hash, "{n} bytes");
    }
}

/// RFC 9018 Appendix A.
const SECRET_A: &str = "e5e973e5a6b2a43f48e7dc849e37bfcf";

#[test]
fn server_cookies_match_rfc_9018_appendix_a() {
    let cases = [
        (
            SECRET_A,
            "2464c4abcf10c957",
            "198.51.100.100",
            1_559_731_985,
            "010000005cf79f111f8130c3eee29480",
        ),
        (
            SECRET_A,
            "2464c4abcf10c957",
            "198.51.100.100",
            1_559_734_385,
            "010000005cf7a871d4a564a1442aca77",
        ),
        (
            SECRET_A,
            "fc93fc62807ddb86",
            "203.0.113.203",
            1_559_734_700,
            "010000005cf7a9acf73a7810aca2381e",
        ),
        (
            "445536bcd2513298075a5d379663c962",
            "22681ab97d52c298",
            "2001:db8:220:1:59de:d0f4:8769:82b8",
            1_559_741_961,
            "010000005cf7c609a6bb79d16625507a",
        ),
    ];
    for (secret, client, ip, at, want) in cases {
        let got = make(&hex(secret), &hex(client), ip.parse().unwrap(), at);
        assert_eq!(got, hex::<16>(want), "{client} at {at}");
    }
}

#[test]
fn a_cookie_with_reserved_bytes_set_by_the_client_still_verifies() {
    // A.3: the client sent its cookie back with the reserved bytes set; they are hashed as received.
    // It was stamped 0x5cf78f71; the example answers it later than the hour we keep a cookie valid.
    let at = 0x5cf7_8f71 + 60;
    let cookies = ServerCookies::new(hex(SECRET_A), at);
    let server = hex::<16>("01abcdef5cf78f71a314227b6679ebf5");
    let v = cookies.answer(&hex("fc93fc62807ddb86"), &server, "203.0.113.203".parse().unwrap(), at);
    assert!(v.verified);
    let other = cookies.answer(&hex("fc93fc62807ddb86"), &server, "203.0.113.204".parse().unwrap(), at);
    assert!(!other.verified, "another address");
}

const NOW: u64 = 1_800_000_000;
const CLIENT: [u8; 8] = *b"client01";

fn ip() -> IpAddr {
    "198.51.100.7".parse().unwrap()
}

#[test]
fn a_client_cookie_alone_gets_a_new_server_cookie_that_verifies_for_an_hour() {
    let cookies = ServerCookies::new([7; 16], NOW);
    let first = cookies.answer(&CLIENT, &[], ip(), NOW);
    assert!(!first.verified);
    assert_eq!(&first.server[..8], &[1, 0, 0, 0, 0x6b, 0x49, 0xd2, 0x00]);
    for later in [0, 1, 1800] {
        let v = cookies.answer(&CLIENT, &first.server, ip(), NOW + later);
        assert_eq!(
            v,
            Verdict {
                server: first.server,
                verified: true
            },
            "kept {later} s later"
        );
    }
    for later in [1801, 3600] {
        let v = cookies.answer(&CLIENT, &first.server, ip(), NOW + later);
        assert!(v.verified, "{later} s later");
        assert_ne!(v.server, first.server, "renewed {later} s later");
        assert!(cookies.answer(&CLIENT, &v.server, ip(), NOW + later).verified);
    }
    let expired = cookies.answer(&CLIENT, &first.server, ip(), NOW + 3601);
    assert!(!expired.verified);
}

#[test]
fn a_cookie_from_up_to_five_minutes_ahead_is_accepted_and_renewed() {
    let cookies = ServerCookies::new([7; 16], NOW);
    let ahead = make(&[7; 16], &CLIENT, ip(), (NOW + 300) as u32);
    let v = cookies.answer(&CLIENT, &ahead, ip(), NOW);
    assert!(v.verified);
    assert_ne!(v.server, ahead);
    let too_far = make(&[7; 16], &CLIENT, ip(), (NOW + 301) as u32);
    assert!(!cookies.answer(&CLIENT, &too_far, ip(), NOW).verified);
}

#[test]
fn the_previous_secret_verifies_after_one_rotation_not_two() {
    let mut cookies = ServerCookies::new([1; 16], NOW);
    let old = cookies.answer(&CLIENT, &[], ip(), NOW + 3000).server;
    assert!(!cookies.rotation_due(NOW + 3599));
    assert!(cookies.rotation_due(NOW + 3600));
    cookies.rotate([2; 16], NOW + 3600);
    let v = cookies.answer(&CLIENT, &old, ip(), NOW + 3700);
    assert!(v.verified, "made before the rotation");
    assert_eq!(v.server, old, "and young enough to keep");
    cookies.rotate([3; 16], NOW + 3800);
    assert!(!cookies.answer(&CLIENT, &old, ip(), NOW + 3800).verified);
}

#[test]
fn a_tampered_wrong_version_or_other_clients_cookie_is_not_valid() {
    let cookies = ServerCookies::new([9; 16], NOW);
    let good = cookies.answer(&CLIENT, &[], ip(), NOW).server;
    let mut tampered = good;
    tampered[15] ^= 1;
    let mut version = good;
    version[0] = 2;
    for bad in [
        &tampered[..],
        &version[..],
        &good[..8],
        &[good.as_slice(), &[0; 8]].concat()[..],
    ] {
        let v = cookies.answer(&CLIENT, bad, ip(), NOW);
        assert!(!v.verified, "{bad:?}");
        assert_eq!(v.server, good, "a new cookie is made");
    }
    assert!(!cookies.answer(b"client02", &good, ip(), NOW).verified);
    let v6 = "::ffff:198.51.100.7".parse().unwrap();
    assert!(
        cookies.answer(&CLIENT, &good, v6, NOW).verified,
        "an IPv4-mapped address is the IPv4 one"
    );
}

#[test]
fn a_shared_secret_never_rotates_and_verifies_on_every_server() {
    let one = ServerCookies::shared([5; 16]);
    let other = ServerCookies::shared([5; 16]);
    assert!(!one.rotation_due(u64::MAX));
    let cookie = one.answer(&CLIENT, &[], ip(), NOW).server;
    assert!(other.answer(&CLIENT, &cookie, ip(), NOW + 10).verified);
    assert!(!ServerCookies::new([5; 16], NOW).rotation_due(NOW + 10));
}
