//! The only way the server calls other hosts (S-SF-1). Every outgoing request goes through
//! `OutboundClient`, which:
//!
//! - takes `https://` URLs only;
//! - resolves the host itself and refuses the call when any address it resolves to is not a
//!   public unicast address (loopback, private, link-local including 169.254.169.254, CGNAT,
//!   unique-local, IPv4-mapped or -translated IPv6, multicast, unspecified, reserved);
//! - connects to the addresses it checked, and only those (no second lookup an attacker's DNS
//!   could answer differently: no rebinding);
//! - follows no redirects, uses no proxy from the environment, bounds the connection and the
//!   whole call in time, and reads at most `max_response_bytes` of the answer.
//!
//! URLs are parsed by the `url` crate (WHATWG rules), so decimal, octal and hex IPv4 forms
//! (`http://2130706433/`, `http://0177.0.0.1/`) arrive here as the address they mean and are
//! checked as such.
//!
//! `allow_local` lifts the address and scheme checks for local stand-ins of outside services
//! in development and tests; production refuses to start with it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

/// Why a call was not made, or failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("only https:// destinations are allowed")]
    NotHttps,
    #[error("the URL has no host")]
    NoHost,
    #[error("the destination resolves to a non-public address")]
    ForbiddenAddress,
    #[error("the destination did not resolve")]
    Unresolved,
    #[error("the destination answered with a redirect, which is not followed")]
    Redirect,
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the call timed out")]
    Timeout,
    #[error("the call failed: {0}")]
    Transport(String),
}

/// Resolves host names; the system resolver in the server, a fixed table in tests.
#[async_trait::async_trait]
pub trait Resolver: Send + Sync {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

/// The operating system's resolver.
pub struct SystemResolver;

#[async_trait::async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }
}

/// Address blocks no outgoing call may reach (RFC 6890 special-purpose registries, minus
/// nothing): everything that is not a public unicast address.
const FORBIDDEN: &[&str] = &[
    "0.0.0.0/8",       // "this network", unspecified
    "10.0.0.0/8",      // private
    "100.64.0.0/10",   // carrier-grade NAT
    "127.0.0.0/8",     // loopback
    "169.254.0.0/16",  // link-local, cloud metadata (169.254.169.254)
    "172.16.0.0/12",   // private
    "192.0.0.0/24",    // IETF protocol assignments
    "192.0.2.0/24",    // documentation
    "192.88.99.0/24",  // 6to4 relay anycast
    "192.168.0.0/16",  // private
    "198.18.0.0/15",   // benchmarking
    "198.51.100.0/24", // documentation
    "203.0.113.0/24",  // documentation
    "224.0.0.0/4",     // multicast
    "240.0.0.0/4",     // reserved, broadcast
    "::/128",          // unspecified
    "::1/128",         // loopback
    "::ffff:0:0/96",   // IPv4-mapped
    "::/96",           // IPv4-compatible (deprecated)
    "64:ff9b::/96",    // NAT64
    "64:ff9b:1::/48",  // local NAT64
    "100::/64",        // discard
    "2001::/32",       // Teredo
    "2001:db8::/32",   // documentation
    "2002::/16",       // 6to4 (embeds an IPv4 address)
    "fc00::/7",        // unique-local
    "fe80::/10",       // link-local
    "fec0::/10",       // site-local (deprecated)
    "ff00::/8",        // multicast
];

fn forbidden_nets() -> &'static [IpNet] {
    static NETS: std::sync::OnceLock<Vec<IpNet>> = std::sync::OnceLock::new();
    NETS.get_or_init(|| FORBIDDEN.iter().filter_map(|n| n.parse().ok()).collect())
}

/// May an outgoing call connect to `ip`?
pub fn is_public(ip: IpAddr) -> bool {
    !forbidden_nets().iter().any(|net| net.contains(&ip))
}

/// Settings of the client.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(15),
            max_response_bytes: 1024 * 1024,
        }
    }
}

/// An answer, read in full within the size cap.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A request to send.
pub struct Request<'a> {
    pub url: &'a Url,
    pub headers: Vec<(&'static str, String)>,
    /// Body and its content type.
    pub body: Option<(&'static str, Vec<u8>)>,
}

#[derive(Clone)]
pub struct OutboundClient {
    resolver: Arc<dyn Resolver>,
    limits: Limits,
    allow_local: bool,
}

impl OutboundClient {
    pub fn new(allow_local: bool) -> Self {
        Self {
            resolver: Arc::new(SystemResolver),
            limits: Limits::default(),
            allow_local,
        }
    }

    pub fn with_resolver(mut self, resolver: Arc<dyn Resolver>) -> Self {
        self.resolver = resolver;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The addresses `url` may be reached at, all checked; refuses before any connection.
    pub async fn checked_addresses(&self, url: &Url) -> Result<Vec<SocketAddr>, OutboundError> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_local => {}
            _ => return Err(OutboundError::NotHttps),
        }
        let port = url.port_or_known_default().ok_or(OutboundError::NoHost)?;
        let addresses: Vec<SocketAddr> = match url.host() {
            None => return Err(OutboundError::NoHost),
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(url::Host::Domain(name)) => {
                let found =
                    tokio::time::timeout(self.limits.connect_timeout, self.resolver.resolve(name, port))
                        .await
                        .map_err(|_| OutboundError::Timeout)?
                        .map_err(|_| OutboundError::Unresolved)?;
                if found.is_empty() {
                    return Err(OutboundError::Unresolved);
                }
                found
            }
        };
        // Every address must pass: a name that also resolves to an internal address is refused
        // whole, so no lookup order or retry can reach the internal one.
        if !self.allow_local && addresses.iter().any(|a| !is_public(a.ip())) {
            tracing::warn!(
                host = url.host_str().unwrap_or(""),
                "outbound call refused: non-public address"
            );
            return Err(OutboundError::ForbiddenAddress);
        }
        Ok(addresses)
    }

    /// Sends a GET and reads the answer within the limits.
    pub async fn get(&self, url: &Url) -> Result<Answer, OutboundError> {
        self.send(
            reqwest::Method::GET,
            Request {
                url,
                headers: Vec::new(),
                body: None,
            },
        )
        .await
    }

    /// Sends a POST and reads the answer within the limits.
    pub async fn post(&self, request: Request<'_>) -> Result<Answer, OutboundError> {
        self.send(reqwest::Method::POST, request).await
    }

    async fn send(&self, method: reqwest::Method, request: Request<'_>) -> Result<Answer, OutboundError> {
        let addresses = self.checked_addresses(request.url).await?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(self.limits.connect_timeout)
            .timeout(self.limits.total_timeout)
            .https_only(!self.allow_local);
        if let Some(url::Host::Domain(name)) = request.url.host() {
            // Pin the name to the checked addresses: reqwest connects there and nowhere else.
            builder = builder.resolve_to_addrs(name, &addresses);
        }
        let client = builder
            .build()
            .map_err(|e| OutboundError::Transport(e.to_string()))?;
        let mut call = client.request(method, request.url.clone());
        for (name, value) in request.headers {
            call = call.header(name, value);
        }
        if let Some((content_type, body)) = request.body {
            call = call.header("content-type", content_type).body(body);
        }
        let mut response = call.send().await.map_err(classify)?;
        if response.status().is_redirection() {
            return Err(OutboundError::Redirect);
        }
        let status = response.status().as_u16();
        let cap = self.limits.max_response_bytes;
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(OutboundError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > cap {
                return Err(OutboundError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status, body })
    }
}

fn classify(e: reqwest::Error) -> OutboundError {
    if e.is_timeout() {
        OutboundError::Timeout
    } else {
        OutboundError::Transport(e.without_url().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Table(HashMap<&'static str, Vec<IpAddr>>);

    #[async_trait::async_trait]
    impl Resolver for Table {
        async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
            Ok(self
                .0
                .get(host)
                .map(|ips| ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
                .unwrap_or_default())
        }
    }

    fn client() -> OutboundClient {
        let table = Table(HashMap::from([
            ("public.example", vec!["93.184.215.14".parse().unwrap()]),
            ("rebind.example", vec!["127.0.0.1".parse().unwrap()]),
            (
                "mixed.example",
                vec!["93.184.215.14".parse().unwrap(), "10.0.0.7".parse().unwrap()],
            ),
        ]));
        OutboundClient::new(false).with_resolver(Arc::new(table))
    }

    async fn check(url: &str) -> Result<Vec<SocketAddr>, OutboundError> {
        client().checked_addresses(&Url::parse(url).unwrap()).await
    }

    #[tokio::test]
    async fn internal_destinations_are_refused_in_every_spelling() {
        for url in [
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/",
            "https://100.64.0.1/",
            "https://172.16.5.4/",
            "https://192.168.1.1/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://0.0.0.0/",
            "https://224.0.0.1/",
            // Decimal, octal and hex forms of 127.0.0.1, normalised by the URL parser.
            "https://2130706433/",
            "https://0177.0.0.1/",
            "https://0x7f.0.0.1/",
            "https://127.1/",
            "https://rebind.example/",
            "https://mixed.example/",
        ] {
            assert!(
                matches!(check(url).await, Err(OutboundError::ForbiddenAddress)),
                "{url} was not refused"
            );
        }
    }

    #[tokio::test]
    async fn only_https_to_public_addresses_passes() {
        assert!(matches!(
            check("http://public.example/").await,
            Err(OutboundError::NotHttps)
        ));
        assert!(matches!(
            check("ftp://public.example/").await,
            Err(OutboundError::NotHttps)
        ));
        assert!(matches!(
            check("https://nowhere.example/").await,
            Err(OutboundError::Unresolved)
        ));
        let ok = check("https://public.example/hook").await.unwrap();
        assert_eq!(ok, vec!["93.184.215.14:443".parse().unwrap()]);
    }

    #[test]
    fn public_addresses_are_public() {
        for ip in ["8.8.8.8", "93.184.215.14", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
