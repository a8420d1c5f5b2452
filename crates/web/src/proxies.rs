//! Reverse proxies whose word on the client's address is taken. Behind a proxy every
//! request comes from the proxy's address; the proxy puts the client's in
//! `X-Forwarded-For`. That header is only believed from a proxy the operator named
//! (`trusted_proxies`), since anyone else can send it: the client is the nearest address in
//! it that is not itself a trusted proxy.

use std::net::IpAddr;

/// Addresses and networks (`10.0.0.0/8`, `::1`) whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Reads a comma-separated list; an empty one trusts no proxy.
    pub fn parse(text: &str) -> Result<TrustedProxies, String> {
        let mut networks = Vec::new();
        for entry in text
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
        {
            let (address, prefix) = match entry.split_once('/') {
                Some((address, prefix)) => (address, Some(prefix)),
                None => (entry, None),
            };
            let address: IpAddr = address
                .parse()
                .map_err(|_| format!("\"{entry}\" is not an IP address or network"))?;
            let longest = if address.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => longest,
                Some(prefix) => prefix
                    .parse::<u8>()
                    .ok()
                    .filter(|prefix| *prefix <= longest)
                    .ok_or_else(|| format!("\"{entry}\": the prefix must be 0 to {longest}"))?,
            };
            networks.push((address, prefix));
        }
        Ok(TrustedProxies(networks))
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0
            .iter()
            .any(|(network, prefix)| match (canonical(*network), address) {
                (IpAddr::V4(network), IpAddr::V4(address)) => {
                    masked(u128::from(u32::from(network)), *prefix, 32)
                        == masked(u128::from(u32::from(address)), *prefix, 32)
                }
                (IpAddr::V6(network), IpAddr::V6(address)) => {
                    masked(u128::from(network), *prefix, 128)
                        == masked(u128::from(address), *prefix, 128)
                }
                _ => false,
            })
    }

    /// The client of a request that came from `peer` with these `X-Forwarded-For` values.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(address) => {
                    client = address;
                    if !self.contains(address) {
                        break;
                    }
                }
                // Garbage in the header: the last address known good stands.
                Err(_) => break,
            }
        }
        client
    }
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is the IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        bits >> (width - prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_proxy_is_believed() {
        let proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8, fd00::/8").unwrap();
        assert!(proxies.contains(ip("10.1.2.3")) && proxies.contains(ip("::ffff:127.0.0.1")));
        assert!(!proxies.contains(ip("11.0.0.1")) && proxies.contains(ip("fd12::1")));
        // From a trusted proxy: the nearest untrusted hop.
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &["203.0.113.9, 10.0.0.7"]),
            ip("203.0.113.9")
        );
        // A client's own forged entry, left of the real one, is not believed.
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &["1.1.1.1", "198.51.100.4"]),
            ip("198.51.100.4")
        );
        // Not from a proxy: the header is anyone's.
        assert_eq!(
            proxies.client(ip("198.51.100.4"), &["1.1.1.1"]),
            ip("198.51.100.4")
        );
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &["not an address"]),
            ip("127.0.0.1")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &["1.1.1.1"]),
            ip("127.0.0.1")
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
        assert_eq!(
            TrustedProxies::parse(" ").unwrap(),
            TrustedProxies::default()
        );
    }
}
