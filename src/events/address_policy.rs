//! Which addresses a webhook delivery may connect to (the SSRF guard).
//!
//! Only public unicast addresses are allowed by default. Refused: loopback, private (RFC 1918,
//! IPv6 unique-local fc00::/7 and the old site-local fec0::/10), shared address space (CGNAT,
//! 100.64.0.0/10), link-local (169.254.0.0/16 with the cloud metadata endpoint, fe80::/10),
//! unspecified, multicast, broadcast, documentation and other reserved ranges, and the IPv6 forms
//! that carry one of those IPv4 addresses (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`,
//! 6to4 `2002::/16`).
//!
//! Two ways to let more through:
//! - allow rules, each a host name (exact, case-insensitive: the host skips the address check
//!   entirely) or a CIDR (an address in it is allowed whatever its range; a bare address is a
//!   /32 or /128);
//! - `allow_private`, which allows loopback, private and shared (CGNAT) addresses. Link-local
//!   addresses (where cloud metadata services live) stay refused unless a CIDR lists them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

/// The kind of range an address is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Public,
    Loopback,
    /// RFC 1918, IPv6 unique-local and site-local, NAT64 local-use.
    Private,
    /// 100.64.0.0/10, carrier-grade NAT (RFC 6598).
    Shared,
    LinkLocal,
    Unspecified,
    Multicast,
    Broadcast,
    Documentation,
    /// "This network", benchmarking, IETF protocol assignments, future use, unassigned IPv6 and
    /// deprecated transition forms.
    Reserved,
}

impl AddressClass {
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "public",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::Shared => "shared (CGNAT)",
            AddressClass::LinkLocal => "link-local",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Documentation => "documentation",
            AddressClass::Reserved => "reserved",
        }
    }

    /// What `allow_private` lets through.
    fn is_private_network(self) -> bool {
        matches!(
            self,
            AddressClass::Loopback | AddressClass::Private | AddressClass::Shared
        )
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The range `ip` is in; an IPv4-mapped IPv6 address is judged as its IPv4 address.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: u32, net: [u8; 4], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    ip & mask == u32::from_be_bytes(net) & mask
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    use AddressClass::*;
    let n = u32::from(ip);
    let ranges: &[([u8; 4], u32, AddressClass)] = &[
        ([0, 0, 0, 0], 32, Unspecified),
        ([0, 0, 0, 0], 8, Reserved),
        ([10, 0, 0, 0], 8, Private),
        ([100, 64, 0, 0], 10, Shared),
        ([127, 0, 0, 0], 8, Loopback),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([172, 16, 0, 0], 12, Private),
        ([192, 0, 0, 0], 24, Reserved),
        ([192, 0, 2, 0], 24, Documentation),
        ([192, 88, 99, 0], 24, Reserved),
        ([192, 168, 0, 0], 16, Private),
        ([198, 18, 0, 0], 15, Reserved),
        ([198, 51, 100, 0], 24, Documentation),
        ([203, 0, 113, 0], 24, Documentation),
        ([224, 0, 0, 0], 4, Multicast),
        ([255, 255, 255, 255], 32, Broadcast),
        ([240, 0, 0, 0], 4, Reserved),
    ];
    ranges
        .iter()
        .find(|(net, len, _)| in_v4(n, *net, *len))
        .map_or(Public, |(_, _, class)| *class)
}

fn in_v6(ip: u128, net: u128, len: u32) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    ip & mask == net & mask
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    use AddressClass::*;
    let n = u128::from(ip);
    let low_v4 = Ipv4Addr::from(n as u32);
    if ip.is_unspecified() {
        Unspecified
    } else if ip.is_loopback() {
        Loopback
    } else if in_v6(n, 0xffff_0000_0000, 96) {
        // IPv4-mapped: ::ffff:a.b.c.d reaches a.b.c.d.
        classify_v4(low_v4)
    } else if in_v6(n, 0, 96) {
        // IPv4-compatible (deprecated): ::a.b.c.d.
        Reserved
    } else if in_v6(n, 0x0064_ff9b << 96, 96) {
        // NAT64 well-known prefix: a translator connects to the embedded IPv4 address.
        classify_v4(low_v4)
    } else if in_v6(n, 0x0064_ff9b_0001 << 80, 48) {
        Private
    } else if in_v6(n, 0x0100 << 112, 64) {
        // Discard-only.
        Reserved
    } else if in_v6(n, 0x2001_0db8 << 96, 32) || in_v6(n, 0x3fff << 112, 20) {
        Documentation
    } else if in_v6(n, 0x2001 << 112, 32) {
        // Teredo.
        Reserved
    } else if in_v6(n, 0x2002 << 112, 16) {
        // 6to4: 2002:aabb:ccdd::/48 is relayed to a.b.c.d.
        classify_v4(Ipv4Addr::from((n >> 80) as u32))
    } else if in_v6(n, 0xfc00 << 112, 7) || in_v6(n, 0xfec0 << 112, 10) {
        Private
    } else if in_v6(n, 0xfe80 << 112, 10) {
        LinkLocal
    } else if in_v6(n, 0xff00 << 112, 8) {
        Multicast
    } else if in_v6(n, 0x2000 << 112, 3) {
        // Global unicast.
        Public
    } else {
        Reserved
    }
}

/// A bad allow rule: the rule as given and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid webhook allow rule {rule:?}: {reason}")]
pub struct RuleError {
    pub rule: String,
    pub reason: String,
}

/// One entry of the allow list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowRule {
    /// A host name, lowercased and without a trailing dot; matched exactly.
    Host(String),
    /// Addresses in this network are allowed whatever their range.
    Net(IpNet),
}

impl FromStr for AllowRule {
    type Err = RuleError;

    /// `"10.0.0.0/8"`, `"fd00::/8"`, `"127.0.0.1"` (a /32), `"::1"` or `"[::1]"` (a /128),
    /// `"hooks.internal"`. Surrounding white space is ignored.
    fn from_str(rule: &str) -> Result<Self, RuleError> {
        let error = |reason: &str| RuleError {
            rule: rule.to_string(),
            reason: reason.to_string(),
        };
        let text = rule.trim();
        if text.is_empty() {
            return Err(error(
                "empty; give a host name or a CIDR such as 10.0.0.0/8",
            ));
        }
        if text.contains("://") {
            return Err(error(
                "give a host name or a CIDR, not a URL (e.g. hooks.internal or 10.0.0.0/8)",
            ));
        }
        if text.contains('/') {
            return text
                .parse::<IpNet>()
                // 10.1.2.3/8 means 10.0.0.0/8.
                .map(|net| AllowRule::Net(net.trunc()))
                .map_err(|_| {
                    error("not a valid CIDR (an IPv4 or IPv6 address, '/', a prefix length)")
                });
        }
        let bare = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(AllowRule::Net(IpNet::from(ip)));
        }
        if text.contains('*') {
            return Err(error(
                "wildcards are not supported; list each host name, or the addresses as a CIDR",
            ));
        }
        if text.contains(':') {
            return Err(error(
                "not a valid IPv6 address, and a host name takes no port (ports are not matched)",
            ));
        }
        let host = normalize_host(text);
        if host.is_empty() || host.len() > 253 {
            return Err(error("not a valid host name"));
        }
        for label in host.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(error("not a valid host name (empty or over-long label)"));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(error(
                    "not a valid host name (letters, digits, '-' and '.' only; \
                     write international names in their xn-- form)",
                ));
            }
        }
        let last = host.rsplit('.').next().unwrap_or_default();
        if last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x") {
            // URLs read such a host as an IPv4 address, so the name would never match.
            return Err(error("not a valid IP address or host name"));
        }
        Ok(AllowRule::Host(host))
    }
}

impl fmt::Display for AllowRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowRule::Host(host) => f.write_str(host),
            AllowRule::Net(net) => write!(f, "{net}"),
        }
    }
}

fn normalize_host(host: &str) -> String {
    let host = host.strip_suffix('.').unwrap_or(host);
    host.to_ascii_lowercase()
}

/// The allow list and the private-network switch. The default refuses every non-public address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    hosts: Vec<String>,
    nets: Vec<IpNet>,
    allow_private: bool,
}

impl AddressPolicy {
    pub fn new(rules: impl IntoIterator<Item = AllowRule>, allow_private: bool) -> Self {
        let mut policy = AddressPolicy {
            allow_private,
            ..AddressPolicy::default()
        };
        for rule in rules {
            match rule {
                AllowRule::Host(host) => policy.hosts.push(host),
                AllowRule::Net(net) => policy.nets.push(net),
            }
        }
        policy
    }

    /// Parses each rule; blank entries (as in `"a,,b"`) are skipped.
    pub fn parse<S: AsRef<str>>(
        rules: impl IntoIterator<Item = S>,
        allow_private: bool,
    ) -> Result<Self, RuleError> {
        let rules = rules
            .into_iter()
            .filter(|rule| !rule.as_ref().trim().is_empty())
            .map(|rule| rule.as_ref().parse::<AllowRule>())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AddressPolicy::new(rules, allow_private))
    }

    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// The rules, host names first.
    pub fn rules(&self) -> impl Iterator<Item = AllowRule> + '_ {
        let hosts = self.hosts.iter().cloned().map(AllowRule::Host);
        hosts.chain(self.nets.iter().copied().map(AllowRule::Net))
    }

    /// Whether this host name is on the allow list (it then skips the address check).
    pub fn allows_host(&self, host: &str) -> bool {
        if self.hosts.is_empty() {
            return false;
        }
        let host = normalize_host(host);
        self.hosts.contains(&host)
    }

    /// `Ok` when a delivery may connect to `ip`, else the range that refuses it.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), AddressClass> {
        let canonical = ip.to_canonical();
        if self
            .nets
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical))
        {
            return Ok(());
        }
        match classify(ip) {
            AddressClass::Public => Ok(()),
            class if self.allow_private && class.is_private_network() => Ok(()),
            class => Err(class),
        }
    }

    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        self.check_ip(ip).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AddressClass::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn class(text: &str) -> AddressClass {
        classify(ip(text))
    }

    #[test]
    fn ipv4_ranges() {
        for (addr, expected) in [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Reserved),
            ("10.0.0.0", Private),
            ("10.255.255.255", Private),
            ("11.0.0.0", Public),
            ("100.63.255.255", Public),
            ("100.64.0.0", Shared),
            ("100.127.255.255", Shared),
            ("100.128.0.0", Public),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("169.254.169.254", LinkLocal),
            ("169.254.0.1", LinkLocal),
            ("169.255.0.1", Public),
            ("172.15.255.255", Public),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("172.32.0.0", Public),
            ("192.0.0.8", Reserved),
            ("192.0.2.1", Documentation),
            ("192.88.99.1", Reserved),
            ("192.168.0.1", Private),
            ("192.168.255.255", Private),
            ("192.169.0.1", Public),
            ("198.18.0.1", Reserved),
            ("198.19.255.255", Reserved),
            ("198.20.0.0", Public),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("240.0.0.1", Reserved),
            ("255.255.255.254", Reserved),
            ("255.255.255.255", Broadcast),
            ("1.1.1.1", Public),
            ("8.8.8.8", Public),
            ("93.184.216.34", Public),
            ("223.255.255.255", Public),
        ] {
            assert_eq!(class(addr), expected, "{addr}");
        }
    }

    #[test]
    fn ipv6_ranges() {
        for (addr, expected) in [
            ("::", Unspecified),
            ("::1", Loopback),
            ("fc00::1", Private),
            ("fd12:3456:789a::1", Private),
            ("fec0::1", Private),
            ("fe80::1", LinkLocal),
            ("febf:ffff::1", LinkLocal),
            ("ff02::1", Multicast),
            ("ff0e::101", Multicast),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("100::1", Reserved),
            ("2001::1", Reserved),
            ("::2", Reserved),
            ("4000::1", Reserved),
            ("64:ff9b:1::1", Private),
            ("2606:4700:4700::1111", Public),
            ("2a00:1450:4001:80b::200e", Public),
        ] {
            assert_eq!(class(addr), expected, "{addr}");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_addresses_are_judged_as_ipv4() {
        for (addr, expected) in [
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:7f00:1", Loopback),
            ("::ffff:10.1.2.3", Private),
            ("::ffff:172.16.0.1", Private),
            ("::ffff:192.168.1.1", Private),
            ("::ffff:100.64.0.1", Shared),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:0.0.0.0", Unspecified),
            ("::ffff:224.0.0.1", Multicast),
            ("::ffff:255.255.255.255", Broadcast),
            ("::ffff:192.0.2.1", Documentation),
            ("::ffff:8.8.8.8", Public),
            ("::127.0.0.1", Reserved),
            ("64:ff9b::127.0.0.1", Loopback),
            ("64:ff9b::10.0.0.1", Private),
            ("64:ff9b::8.8.8.8", Public),
            ("2002:7f00:1::1", Loopback),
            ("2002:a9fe:a9fe::1", LinkLocal),
            ("2002:0808:0808::1", Public),
        ] {
            assert_eq!(class(addr), expected, "{addr}");
        }
    }

    #[test]
    fn the_default_policy_allows_only_public_addresses() {
        let policy = AddressPolicy::default();
        assert!(policy.allows_ip(ip("8.8.8.8")));
        assert!(policy.allows_ip(ip("2606:4700:4700::1111")));
        assert!(policy.allows_ip(ip("::ffff:8.8.8.8")));
        for refused in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!policy.allows_ip(ip(refused)), "{refused}");
        }
        assert_eq!(policy.check_ip(ip("127.0.0.1")), Err(Loopback));
        assert!(!policy.allows_host("localhost"));
    }

    #[test]
    fn allow_private_opens_loopback_private_and_shared_but_not_link_local() {
        let policy = AddressPolicy::new([], true);
        for allowed in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "8.8.8.8",
        ] {
            assert!(policy.allows_ip(ip(allowed)), "{allowed}");
        }
        for refused in [
            "169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "240.0.0.1",
        ] {
            assert!(!policy.allows_ip(ip(refused)), "{refused}");
        }
    }

    #[test]
    fn a_cidr_rule_allows_its_addresses_and_their_mapped_forms() {
        let policy = AddressPolicy::parse(["10.0.0.0/8", "fd00::/8", "127.0.0.1"], false).unwrap();
        assert!(policy.allows_ip(ip("10.1.2.3")));
        assert!(policy.allows_ip(ip("::ffff:10.1.2.3")));
        assert!(policy.allows_ip(ip("fd12::1")));
        assert!(policy.allows_ip(ip("127.0.0.1")));
        assert!(policy.allows_ip(ip("::ffff:127.0.0.1")));
        assert!(!policy.allows_ip(ip("127.0.0.2")));
        assert!(!policy.allows_ip(ip("192.168.0.1")));
        assert!(!policy.allows_ip(ip("fc00::1")));
        assert!(!policy.allows_ip(ip("::1")));
        // A CIDR may open a range allow_private keeps closed.
        let metadata = AddressPolicy::parse(["169.254.169.254"], true).unwrap();
        assert!(metadata.allows_ip(ip("169.254.169.254")));
        assert!(!metadata.allows_ip(ip("169.254.169.253")));
    }

    #[test]
    fn a_host_rule_matches_the_exact_name_in_any_case() {
        let policy = AddressPolicy::parse(["Hooks.Internal", "localhost."], false).unwrap();
        assert!(policy.allows_host("hooks.internal"));
        assert!(policy.allows_host("HOOKS.INTERNAL"));
        assert!(policy.allows_host("hooks.internal."));
        assert!(policy.allows_host("localhost"));
        assert!(!policy.allows_host("a.hooks.internal"));
        assert!(!policy.allows_host("hooks.internal.evil.com"));
        assert!(!policy.allows_host("internal"));
        // A host rule allows no address by itself.
        assert!(!policy.allows_ip(ip("127.0.0.1")));
    }

    #[test]
    fn rules_parse() {
        let parse = |text: &str| text.parse::<AllowRule>();
        assert_eq!(
            parse("10.0.0.0/8"),
            Ok(AllowRule::Net("10.0.0.0/8".parse().unwrap()))
        );
        assert_eq!(
            parse(" 10.1.2.3/8 "),
            Ok(AllowRule::Net("10.0.0.0/8".parse().unwrap()))
        );
        assert_eq!(
            parse("127.0.0.1"),
            Ok(AllowRule::Net("127.0.0.1/32".parse().unwrap()))
        );
        assert_eq!(parse("::1"), Ok(AllowRule::Net("::1/128".parse().unwrap())));
        assert_eq!(
            parse("[fd00::1]"),
            Ok(AllowRule::Net("fd00::1/128".parse().unwrap()))
        );
        assert_eq!(
            parse("fd00::/8"),
            Ok(AllowRule::Net("fd00::/8".parse().unwrap()))
        );
        assert_eq!(
            parse("hooks.internal"),
            Ok(AllowRule::Host("hooks.internal".into()))
        );
        assert_eq!(parse("LOCALHOST"), Ok(AllowRule::Host("localhost".into())));
        assert_eq!(
            parse("my_host-1.corp"),
            Ok(AllowRule::Host("my_host-1.corp".into()))
        );
        assert_eq!(parse("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        for (text, reason) in [
            ("", "empty"),
            ("  ", "empty"),
            ("10.0.0.0/33", "CIDR"),
            ("10.0.0/8", "CIDR"),
            ("fd00::/129", "CIDR"),
            ("hooks/8", "CIDR"),
            ("https://hooks.internal", "not a URL"),
            ("*.example.com", "wildcards"),
            ("hooks.internal:8080", "port"),
            ("10.0.0", "IP address"),
            ("999.1.1.1", "IP address"),
            ("a..b", "label"),
            ("héllo.com", "xn--"),
            ("with space", "letters"),
        ] {
            let error = text.parse::<AllowRule>().unwrap_err();
            assert_eq!(error.rule, text);
            assert!(error.reason.contains(reason), "{text}: {error}");
            assert!(error.to_string().contains("invalid webhook allow rule"));
        }
    }

    #[test]
    fn policy_parse_skips_blank_entries_and_reports_the_bad_one() {
        let policy = AddressPolicy::parse(["", " localhost ", "  "], false).unwrap();
        assert_eq!(
            policy.rules().collect::<Vec<_>>(),
            vec![AllowRule::Host("localhost".into())]
        );
        let error = AddressPolicy::parse(["10.0.0.0/8", "bad/99"], false).unwrap_err();
        assert_eq!(error.rule, "bad/99");
    }
}
