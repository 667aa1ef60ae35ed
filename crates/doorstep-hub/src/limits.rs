//! Per-client rate limits on what can be guessed at: partner sign-in (passwords) and device
//! enrolment (one-time codes). Keyed by the connecting address or, when the hub was started with
//! `--behind-tls-proxy`, by the address the proxy put last in `X-Forwarded-For`. The quotas are
//! generous for one office's NAT, and the account lock-out still protects each account.

use std::net::IpAddr;
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::server::Peer;

/// Sign-in attempts per client per minute (a burst of as many is allowed).
pub const SIGN_INS_PER_MINUTE: u32 = 20;
/// Enrolment attempts per client per minute: enough for an office setting up a box of tablets.
pub const ENROLMENTS_PER_MINUTE: u32 = 60;
/// Forget idle clients once this many are tracked, so a flood of addresses cannot grow memory.
const FORGET_AFTER_CLIENTS: usize = 10_000;

pub struct ClientLimits {
    sign_in: DefaultKeyedRateLimiter<IpAddr>,
    enrol: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for ClientLimits {
    fn default() -> Self {
        let per_minute = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        ClientLimits {
            sign_in: RateLimiter::keyed(per_minute(SIGN_INS_PER_MINUTE)),
            enrol: RateLimiter::keyed(per_minute(ENROLMENTS_PER_MINUTE)),
        }
    }
}

impl ClientLimits {
    /// Whether this client may try to sign in now.
    pub fn sign_in(&self, client: &ClientIp) -> bool {
        Self::check(&self.sign_in, client)
    }

    /// Whether this client may try an enrolment code now.
    pub fn enrol(&self, client: &ClientIp) -> bool {
        Self::check(&self.enrol, client)
    }

    fn check(limiter: &DefaultKeyedRateLimiter<IpAddr>, client: &ClientIp) -> bool {
        // A request that did not come through a socket (in-process tests) has no address to limit.
        let Some(ip) = client.0.map(rate_key) else { return true };
        if limiter.len() > FORGET_AFTER_CLIENTS {
            limiter.retain_recent();
        }
        let allowed = limiter.check_key(&ip).is_ok();
        if !allowed {
            tracing::warn!(client = %ip, "rate limit reached");
        }
        allowed
    }
}

/// What a client is counted as: an IPv4 address, or an IPv6 address's /64 (one home or office
/// network is given a whole /64, so counting each address would give an attacker 2^64 tries).
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(network))
            }
        },
    }
}

/// The address a request came from, where the server recorded one.
pub struct ClientIp(pub Option<IpAddr>);

/// Marks a request that came through the TLS proxy the hub was told is in front: its connecting
/// address is the proxy's, so "from this machine" means nothing (`/metrics` then needs its token).
#[derive(Debug, Clone, Copy)]
pub struct ThroughProxy;

/// The client address a trusted TLS proxy reported; set by the server only when it was told a
/// proxy is in front, never from the request alone.
#[derive(Debug, Clone, Copy)]
pub struct ForwardedClient(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let forwarded = parts.extensions.get::<ForwardedClient>().map(|f| f.0);
        let connected = || parts.extensions.get::<ConnectInfo<Peer>>().map(|c| c.0.0.ip());
        Ok(ClientIp(forwarded.or_else(connected)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("v6");
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().expect("v6");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("v6");
        assert_eq!(rate_key(a), rate_key(b), "one /64, one client");
        assert_ne!(rate_key(a), rate_key(other));
        assert_eq!(rate_key("::ffff:192.0.2.7".parse().expect("mapped")), "192.0.2.7".parse::<IpAddr>().expect("v4"));
        assert_eq!(rate_key("192.0.2.7".parse().expect("v4")), "192.0.2.7".parse::<IpAddr>().expect("v4"));
    }

    #[test]
    fn one_network_of_many_ipv6_addresses_shares_one_quota() {
        let limits = ClientLimits::default();
        let allowed = (0..SIGN_INS_PER_MINUTE + 10)
            .filter(|n| {
                let ip: IpAddr = format!("2001:db8:1:2::{:x}", n + 1).parse().expect("v6");
                limits.sign_in(&ClientIp(Some(ip)))
            })
            .count();
        assert_eq!(allowed, SIGN_INS_PER_MINUTE as usize);
    }
}
