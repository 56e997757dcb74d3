//! The registered numbers a received message is read as (RFC 1035, RFC 6891 and the IANA DNS
//! parameters registry): record types, classes, response codes and opcodes as newtypes with associated
//! constants, in the style of NLnetLabs `domain`'s `base/iana/`. A parsed [`Message`](super::Message)
//! hands these out, so a record type cannot be compared with a class by mistake. The writer and the
//! snapshot store plain numbers: the integer tables in `wire` (`rtype::A`, ...) are defined from these
//! constants, so each number is written down once.

macro_rules! iana {
    ($(#[$doc:meta])* $name:ident { $($(#[$cdoc:meta])* $konst:ident = $value:expr,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u16);

        impl $name {
            $(
                #[doc = concat!("`", stringify!($konst), "` (", stringify!($value), ").")]
                $(#[$cdoc])*
                pub const $konst: $name = $name($value);
            )*

            /// The value as received.
            #[inline]
            pub const fn from_int(value: u16) -> $name {
                $name(value)
            }

            /// The value as written on the wire.
            #[inline]
            pub const fn to_int(self) -> u16 {
                self.0
            }

            /// The registered mnemonic, if this is one of the values named here.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $($name::$konst => Some(stringify!($konst)),)*
                    _ => None,
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}", self.0),
                }
            }
        }

        impl From<$name> for u16 {
            #[inline]
            fn from(value: $name) -> u16 {
                value.0
            }
        }

        /// Compares with a plain number (as the integer tables and tests hold them).
        impl PartialEq<u16> for $name {
            #[inline]
            fn eq(&self, other: &u16) -> bool {
                self.0 == *other
            }
        }
    };
}

iana!(
    /// A record type (RFC 1035 3.2.2, 3.2.3).
    Rtype {
        A = 1,
        NS = 2,
        CNAME = 5,
        SOA = 6,
        PTR = 12,
        TXT = 16,
        AAAA = 28,
        SRV = 33,
        OPT = 41,
        RRSIG = 46,
        NSEC = 47,
        NSEC3 = 50,
        /// RFC 8945.
        TSIG = 250,
        IXFR = 251,
        AXFR = 252,
        MAILB = 253,
        MAILA = 254,
        ANY = 255,
    }
);

iana!(
    /// A class (RFC 1035 3.2.4, 3.2.5).
    Class {
        IN = 1,
        CH = 3,
        ANY = 255,
    }
);

iana!(
    /// A response code: the header's four bits, or with the OPT record's upper eight (RFC 6891 6.1.3).
    Rcode {
        NOERROR = 0,
        FORMERR = 1,
        SERVFAIL = 2,
        NXDOMAIN = 3,
        NOTIMP = 4,
        REFUSED = 5,
        /// RFC 2136 (TSIG errors are sent with it, RFC 8945 5.3.2).
        NOTAUTH = 9,
        /// Extended (RFC 6891): needs the OPT record.
        BADVERS = 16,
    }
);

iana!(
    /// An opcode (RFC 1035 4.1.1, RFC 1996).
    Opcode {
        QUERY = 0,
        NOTIFY = 4,
    }
);

impl Rcode {
    /// The four bits that go in the header.
    #[inline]
    pub const fn header_bits(self) -> u16 {
        self.0 & 0x000f
    }

    /// The upper eight bits that go in the OPT record's TTL (RFC 6891 6.1.3).
    #[inline]
    pub const fn extended_bits(self) -> u8 {
        (self.0 >> 4) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_mnemonics_or_numbers() {
        assert_eq!(format!("{:?} {}", Rtype::SRV, Rtype::from_int(99)), "SRV 99");
        assert_eq!(format!("{:?}", Class::from_int(4)), "Class(4)");
        assert_eq!(Rcode::BADVERS.header_bits(), 0);
        assert_eq!(Rcode::BADVERS.extended_bits(), 1);
        assert_eq!(Rcode::NXDOMAIN, 3);
        assert_eq!(u16::from(Opcode::NOTIFY), 4);
    }
}
