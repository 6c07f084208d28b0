//! Source networks, compiled to a mask and bits so that a match is one AND
//! and one comparison.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

/// An address as the networks compare it: IPv4 in the low 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Address {
    v6: bool,
    bits: u128,
}

impl Address {
    pub(crate) fn new(ip: IpAddr) -> Self {
        // SECURITY: an IPv4 client seen through a dual-stack socket arrives as
        // `::ffff:a.b.c.d`; compare it as the IPv4 address it is, so IPv4 rules
        // neither miss it nor can be bypassed with it.
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self {
                v6: false,
                bits: u128::from(u32::from(v4)),
            },
            IpAddr::V6(v6) => Self {
                v6: true,
                bits: u128::from(v6),
            },
        }
    }
}

/// A validated network (no host bits set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Network {
    net: IpNet,
    v6: bool,
    bits: u128,
    mask: u128,
}

impl Network {
    pub(crate) fn new(net: IpNet) -> Self {
        let (v6, bits, mask) = match net {
            IpNet::V4(v4) => (
                false,
                u128::from(u32::from(v4.network())),
                u128::from(u32::from(v4.netmask())),
            ),
            IpNet::V6(v6) => (true, u128::from(v6.network()), u128::from(v6.netmask())),
        };
        Self {
            net,
            v6,
            bits,
            mask,
        }
    }

    #[inline]
    pub(crate) fn contains(&self, address: Address) -> bool {
        self.v6 == address.v6 && address.bits & self.mask == self.bits
    }

    /// Whether every address in `other` is in this network.
    pub(crate) fn covers(&self, other: &Network) -> bool {
        self.net.contains(&other.net)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.net.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Network {
        Network::new(s.parse().unwrap())
    }

    fn addr(s: &str) -> Address {
        Address::new(s.parse().unwrap())
    }

    #[test]
    fn networks_contain_their_addresses_and_nothing_else() {
        let ten = net("10.0.0.0/8");
        assert!(ten.contains(addr("10.0.0.0")));
        assert!(ten.contains(addr("10.255.255.255")));
        assert!(!ten.contains(addr("11.0.0.0")));
        assert!(!ten.contains(addr("9.255.255.255")));
        assert!(ten.contains(addr("::ffff:10.1.2.3")), "mapped IPv4 is IPv4");
        assert!(
            !ten.contains(addr("::a01:203")),
            "an IPv6 address with the same low bits is not"
        );
        let doc = net("2001:db8::/32");
        assert!(doc.contains(addr("2001:db8:ffff::1")));
        assert!(!doc.contains(addr("2001:db9::1")));
        assert!(!doc.contains(addr("10.0.0.1")));
        assert!(net("0.0.0.0/0").contains(addr("203.0.113.9")));
        assert!(!net("0.0.0.0/0").contains(addr("2001:db8::1")));
        assert!(net("::/0").contains(addr("2001:db8::1")));
        assert!(net("192.0.2.7/32").contains(addr("192.0.2.7")));
        assert!(!net("192.0.2.7/32").contains(addr("192.0.2.8")));
    }

    #[test]
    fn covers_is_containment() {
        assert!(net("10.0.0.0/8").covers(&net("10.1.0.0/16")));
        assert!(!net("10.1.0.0/16").covers(&net("10.0.0.0/8")));
        assert!(!net("10.0.0.0/8").covers(&net("2001:db8::/32")));
        assert_eq!(net("2001:db8::/32").to_string(), "2001:db8::/32");
    }
}
