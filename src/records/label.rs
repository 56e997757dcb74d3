//! DNS label sanitising of Mesos names (task, framework, discovery and port names): RFC 1123 or RFC 952
//! rules, exactly as the original Mesos-DNS applies them, plus the length rules every generated name
//! must pass ([`is_valid_name`]). This module does not decide which names exist; that is `generate`.
//!
//! A label is made by (behaviour spec section 4, and the original's `records/labels`):
//! lower-casing `A-Z`; keeping `a-z` and `0-9`; mapping `-`, `.` and `_` to `-`; dropping everything
//! else (non-ASCII included); trimming leading `-` (RFC 952: leading `-` and digits); cutting at 63
//! (RFC 952: 24) characters and trimming the `-` at the cut. Like the original, when trailing `-` are
//! trimmed at the cut, the room they leave is refilled from the text after the cut (after skipping
//! its `-`): `89fdgsf---gs7-fgs--d7fddg-123` is `fdgsf---gs7-fgs--d7fddg1` under RFC 952. We: trim
//! trailing `-` once more after that refill, so that no label ends with `-` (the original can).

/// The longest DNS label, in octets (RFC 1035).
pub(crate) const MAX_LABEL_LEN: usize = 63;
/// The longest name in text form without its trailing dot (255 octets on the wire).
pub(crate) const MAX_NAME_LEN: usize = 253;

/// Which host name rules labels follow (`EnforceRFC952`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Spec {
    /// RFC 1123: labels may start with a digit, up to 63 characters. The default.
    #[default]
    Rfc1123,
    /// RFC 952: labels start with a letter, up to 24 characters.
    Rfc952,
}

impl Spec {
    /// The spec selected by the `EnforceRFC952` setting.
    pub(crate) fn new(enforce_rfc952: bool) -> Spec {
        if enforce_rfc952 {
            Spec::Rfc952
        } else {
            Spec::Rfc1123
        }
    }

    /// The longest label this spec makes.
    pub(crate) const fn max_len(self) -> usize {
        match self {
            Spec::Rfc1123 => MAX_LABEL_LEN,
            Spec::Rfc952 => 24,
        }
    }

    /// One label made from `name` (dots become `-`); empty when nothing usable is left.
    pub(crate) fn label(self, name: &str) -> String {
        let mut out = String::with_capacity(name.len().min(self.max_len()));
        self.push_label(name, &mut out);
        out
    }

    /// Appends the label made from `name` to `out` (nothing when it is empty).
    pub(crate) fn push_label(self, name: &str, out: &mut String) {
        let start = out.len();
        for c in name.chars() {
            let m = match c {
                'A'..='Z' => c.to_ascii_lowercase(),
                'a'..='z' | '0'..='9' => c,
                '-' | '.' | '_' => '-',
                _ => continue,
            };
            let leading = out.len() == start;
            if leading && (m == '-' || (self == Spec::Rfc952 && m.is_ascii_digit())) {
                continue;
            }
            out.push(m);
        }
        let max = self.max_len();
        if out.len() - start > max {
            // Everything pushed is ASCII, so byte positions are char boundaries.
            let bytes = &out.as_bytes()[start..];
            let head_len = bytes[..max].iter().rposition(|&b| b != b'-').map_or(0, |i| i + 1);
            let mut fill = [0u8; MAX_LABEL_LEN];
            let mut n = 0;
            if head_len < max {
                let tail = &bytes[max..];
                let tail = &tail[tail.iter().position(|&b| b != b'-').unwrap_or(tail.len())..];
                n = tail.len().min(max - head_len);
                fill[..n].copy_from_slice(&tail[..n]);
            }
            out.truncate(start + head_len);
            out.extend(fill[..n].iter().map(|&b| b as char));
        }
        while out.len() > start && out.ends_with('-') {
            out.pop();
        }
    }

    /// A domain fragment made from `name`: each dot-separated part becomes a label, empty ones are
    /// dropped (framework names: `Chronos With Space 2.0` gives `chronoswithspace2.0`).
    pub(crate) fn domain_frag(self, name: &str) -> String {
        let mut out = String::with_capacity(name.len());
        for part in name.split('.') {
            let before = out.len();
            if before > 0 {
                out.push('.');
            }
            let start = out.len();
            self.push_label(part, &mut out);
            if out.len() == start {
                out.truncate(before);
            }
        }
        out
    }
}

/// The name as written, lower-cased, when it is usable as DNS labels as it is: every dot-separated
/// part non-empty and made of `a-z`, `0-9`, `-` and `_` (parts over 63 octets are cut). `None`
/// otherwise. This is the "raw" discovery name the original also serves (`liquor.store`).
pub(crate) fn verbatim(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    for part in name.split('.') {
        let ok = !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return None;
        }
        if !out.is_empty() {
            out.push('.');
        }
        out.extend(cut(part, MAX_LABEL_LEN).chars().map(|c| c.to_ascii_lowercase()));
    }
    Some(out)
}

/// `label` cut to at most `max` octets (at a character boundary).
pub(crate) fn cut(label: &str, max: usize) -> &str {
    if label.len() <= max {
        return label;
    }
    let mut end = max;
    while !label.is_char_boundary(end) {
        end -= 1;
    }
    &label[..end]
}

/// True for a fully qualified name in text form (`a.b.`) that DNS can carry: a trailing dot, no empty
/// label, no label over 63 octets, at most 253 characters before the trailing dot.
#[cfg(test)]
pub(crate) fn is_valid_name(name: &str) -> bool {
    let Some(body) = name.strip_suffix('.') else {
        return false;
    };
    // A byte loop: this runs for every generated name (millions at 100k tasks), where `str::split`'s
    // searcher costs more than the check.
    !body.is_empty()
        && body.len() <= MAX_NAME_LEN
        && body
            .as_bytes()
            .split(|&b| b == b'.')
            .all(|l| !l.is_empty() && l.len() <= MAX_LABEL_LEN)
}

/// True for dotted text (no trailing dot) whose labels DNS can carry: none empty, none over 63
/// octets. Part of a name [`is_valid_name`] accepts, whatever the name's length.
pub(crate) fn is_valid_labels(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Most parts are one label: one search for a dot (a fast one) says so.
    if !bytes.is_empty() && bytes.len() <= MAX_LABEL_LEN && !bytes.contains(&b'.') {
        return true;
    }
    !bytes.is_empty()
        && bytes
            .split(|&b| b == b'.')
            .all(|l| !l.is_empty() && l.len() <= MAX_LABEL_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name built from parts is valid exactly when each part's labels are and its length is.
    #[test]
    fn a_name_of_valid_parts_is_a_valid_name_up_to_its_length() {
        let long = "x".repeat(64);
        let label63 = "y".repeat(63);
        let parts = [
            "a", "a.b", ".a", "a.", "a..b", "", ".", &long, &label63, "a.", "mesos", "slave", "-x",
        ];
        for a in parts {
            for b in parts {
                let name = format!("{a}.{b}.");
                let by_parts = is_valid_labels(a) && is_valid_labels(b) && name.len() - 1 <= MAX_NAME_LEN;
                assert_eq!(by_parts, is_valid_name(&name), "{name}");
            }
        }
        let many = [label63.as_str(); 4].join(".");
        assert!(is_valid_labels(&many), "labels fine, whatever the length");
        assert!(!is_valid_name(&format!("{many}.")), "254 octets: too long as a name");
    }

    /// Cases that both specs treat alike (the original's `labels_test.go` base table).
    const COMMON: &[(&str, &str)] = &[
        ("", ""),
        ("a", "a"),
        ("-", ""),
        ("a---", "a"),
        ("---a---", "a"),
        ("---a---b", "a---b"),
        ("a.b.c.d.e", "a-b-c-d-e"),
        ("a.c.d_de.", "a-c-d-de"),
        ("abc123", "abc123"),
        ("-abc123", "abc123"),
        ("abc123-", "abc123"),
        ("abc-123", "abc-123"),
        ("abc--123", "abc--123"),
        ("r29f.dev.angrypigs", "r29f-dev-angrypigs"),
        (
            "hello----------------------------------------------------------f",
            "hellof",
        ),
        ("liquor.store", "liquor-store"),
        ("My_App", "my-app"),
        ("caf\u{e9}-\u{1F600}-\u{65e5}\u{672c}", "caf"),
        ("\u{c0}bc", "bc"),
        ("a b\tc", "abc"),
        ("$$$", ""),
    ];

    #[test]
    fn rfc1123_labels_match_the_original() {
        let s = Spec::Rfc1123;
        for &(name, want) in COMMON {
            assert_eq!(s.label(name), want, "{name:?}");
        }
        for &(name, want) in &[
            ("4abc123", "4abc123"),
            ("-4abc123", "4abc123"),
            ("89fdgsf---gs7-fgs--d7fddg-123", "89fdgsf---gs7-fgs--d7fddg-123"),
            ("89fdgsf---gs7-fgs--d7fddg---123", "89fdgsf---gs7-fgs--d7fddg---123"),
            ("89fdgsf---gs7-fgs--d7fddg-", "89fdgsf---gs7-fgs--d7fddg"),
            ("fd%gsf---gs7-f$gs--d7fddg-123", "fdgsf---gs7-fgs--d7fddg-123"),
            (
                "fd%gsf---gs7-f$gs--d7fddg123456789012345678901234567890123456789-123",
                "fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891",
            ),
            (
                "$$fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789-123",
                "fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891",
            ),
            (
                "%%fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789---123",
                "fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891",
            ),
            (
                "##fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789-",
                "fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789",
            ),
            (
                "hello--------------------------------------------------------f",
                "hello--------------------------------------------------------f",
            ),
            (
                "chronos with a space AND MIXED CASE-2.0.1",
                "chronoswithaspaceandmixedcase-2-0-1",
            ),
        ] {
            assert_eq!(s.label(name), want, "{name:?}");
        }
    }

    #[test]
    fn rfc952_labels_drop_leading_digits_and_stop_at_24() {
        let s = Spec::Rfc952;
        for &(name, want) in COMMON {
            assert_eq!(s.label(name), want, "{name:?}");
        }
        for &(name, want) in &[
            ("4abc123", "abc123"),
            ("-4abc123", "abc123"),
            ("4-4-abc", "abc"),
            ("123", ""),
            ("fd%gsf---gs7-f$gs--d7fddg-123", "fdgsf---gs7-fgs--d7fddg1"),
            ("89fdgsf---gs7-fgs--d7fddg-123", "fdgsf---gs7-fgs--d7fddg1"),
            ("89fdgsf---gs7-fgs--d7fddg---123", "fdgsf---gs7-fgs--d7fddg1"),
            ("89fdgsf---gs7-fgs--d7fddg-", "fdgsf---gs7-fgs--d7fddg"),
            ("chronos with a space AND MIXED CASE-2.0.1", "chronoswithaspaceandmixe"),
            ("chronos with a space AND----------MIXED--", "chronoswithaspaceandmixe"),
            (
                "hello--------------------------------------------------------f",
                "hellof",
            ),
        ] {
            assert_eq!(s.label(name), want, "{name:?}");
        }
    }

    #[test]
    fn refilled_labels_never_end_with_a_dash() {
        // The original refills two places after the cut with "x-" and ends the label with '-'.
        assert_eq!(
            Spec::Rfc952.label("abcdefghijklmnopqrstuv--x-yz"),
            "abcdefghijklmnopqrstuvx"
        );
    }

    #[test]
    fn labels_are_never_longer_than_the_spec_allows_and_use_only_ldh() {
        let long = "x".repeat(500);
        assert_eq!(Spec::Rfc1123.label(&long).len(), 63);
        assert_eq!(Spec::Rfc952.label(&long).len(), 24);
        for name in ["-a-b-", "9-9-9-a", &"ab-".repeat(40), &"\u{e9}a-".repeat(50), "___x___"] {
            for s in [Spec::Rfc1123, Spec::Rfc952] {
                let l = s.label(name);
                assert!(l.len() <= s.max_len(), "{name:?} -> {l:?}");
                assert!(l
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
                assert!(!l.starts_with('-') && !l.ends_with('-'), "{name:?} -> {l:?}");
                if s == Spec::Rfc952 {
                    assert!(!l.starts_with(|c: char| c.is_ascii_digit()), "{name:?} -> {l:?}");
                }
            }
        }
    }

    #[test]
    fn push_label_appends_to_what_is_there() {
        let mut s = String::from("_x.");
        Spec::Rfc1123.push_label("--Hello World--", &mut s);
        assert_eq!(s, "_x.helloworld");
        Spec::Rfc1123.push_label("---", &mut s);
        assert_eq!(s, "_x.helloworld");
    }

    #[test]
    fn framework_names_keep_their_dots() {
        let cases: &[(&str, &str, &str)] = &[
            ("", "", ""),
            (".", "", ""),
            ("...", "", ""),
            ("a", "a", "a"),
            ("abc.", "abc", "abc"),
            (".abc", "abc", "abc"),
            ("a..c", "a.c", "a.c"),
            ("a.c..e", "a.c.e", "a.c.e"),
            ("space space.com", "spacespace.com", "spacespace.com"),
            ("not$1234.com", "not1234.com", "not1234.com"),
            ("(@ host . com", "host.com", "host.com"),
            ("MiXeDcase.CoM", "mixedcase.com", "mixedcase.com"),
            ("kafka.prod", "kafka.prod", "kafka.prod"),
            ("Chronos With Space 2.0", "chronoswithspace2.0", "chronoswithspace2"),
            ("marathon-0.7.6", "marathon-0.7.6", "marathon-0"),
            (
                "pod_123$abc.marathon-0.6.0-dev.mesos",
                "pod-123abc.marathon-0.6.0-dev.mesos",
                "pod-123abc.marathon-0.dev.mesos",
            ),
            (
                "chronos with a space AND MIXED CASE-2.0.1",
                "chronoswithaspaceandmixedcase-2.0.1",
                "chronoswithaspaceandmixe",
            ),
        ];
        for &(name, rfc1123, rfc952) in cases {
            assert_eq!(Spec::Rfc1123.domain_frag(name), rfc1123, "{name:?}");
            assert_eq!(Spec::Rfc952.domain_frag(name), rfc952, "{name:?}");
        }
    }

    #[test]
    fn verbatim_names_are_lower_cased_or_refused() {
        assert_eq!(verbatim("liquor.store").as_deref(), Some("liquor.store"));
        assert_eq!(verbatim("Big.Dog").as_deref(), Some("big.dog"));
        assert_eq!(verbatim("my_app-1").as_deref(), Some("my_app-1"));
        assert_eq!(verbatim(&"a".repeat(70)).map(|s| s.len()), Some(63));
        for bad in ["", ".", "a..b", "a.", ".a", "a b", "caf\u{e9}", "a/b", "a@b"] {
            assert_eq!(verbatim(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_must_be_fully_qualified_and_short_enough() {
        assert!(is_valid_name("a.mesos."));
        assert!(is_valid_name(&format!("{}.mesos.", "a".repeat(63))));
        assert!(!is_valid_name(&format!("{}.mesos.", "a".repeat(64))));
        assert!(!is_valid_name("a.mesos"));
        assert!(!is_valid_name("."));
        assert!(!is_valid_name("a..mesos."));
        assert!(!is_valid_name(".a.mesos."));
        let at_limit = format!("{}.", vec!["a".repeat(63); 4].join(".").get(..253).unwrap());
        assert!(is_valid_name(&at_limit), "{}", at_limit.len());
        let over = format!("b{at_limit}");
        assert!(!is_valid_name(&over));
    }

    #[test]
    fn cut_stops_at_a_character_boundary() {
        assert_eq!(cut("abc", 5), "abc");
        assert_eq!(cut("abcdef", 3), "abc");
        assert_eq!(cut("ab\u{e9}", 3), "ab");
    }
}
