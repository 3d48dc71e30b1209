//! Which `Host` a server answers to, and which addresses it may listen on at all.
//!
//! DNS rebinding: a web page at `evil.example` can point its own name at 127.0.0.1 and then
//! read whatever a loopback server answers, because to the browser it is still the page's own
//! origin. The one thing it cannot change is the `Host` header, which names `evil.example`. So
//! a loopback server answers only requests naming it: its own address, or `localhost`, with
//! its port. A server the user put on the network (`--allow-lan`) cannot know every name the
//! machine has there, so it accepts any name, but an address still has to be the one the
//! request arrived on and the port its own; there the token is the guard.

use std::net::{IpAddr, SocketAddr};

use super::Response;
use crate::error::Fatal;

/// Refuse to listen beyond this machine unless the user said so: a preview or review app on
/// every interface is reachable by anyone on the clinic's network.
pub fn refuse_lan(addr: SocketAddr, allow_lan: bool) -> Result<(), Fatal> {
    if addr.ip().is_loopback() || allow_lan {
        return Ok(());
    }
    Err(Fatal::Other(format!(
        "{addr} is not a loopback address: anyone on the network could reach it. Add \
         --allow-lan to serve there (every request then needs the token in the printed link), \
         or serve on 127.0.0.1:PORT"
    )))
}

/// Whether a request that arrived at `local` on a server bound to `bound` names that server in
/// its `Host` header (`None`: no header, refused too).
#[must_use]
pub fn host_allowed(host: Option<&str>, bound: SocketAddr, local: SocketAddr) -> bool {
    let Some((name, port)) = host.and_then(split_host) else {
        return false;
    };
    // A browser leaves out the port only when it is HTTP's own.
    if port.unwrap_or(80) != bound.port() {
        return false;
    }
    let arrived = local.ip().to_canonical();
    match name.parse::<IpAddr>() {
        Ok(ip) => ip.to_canonical() == arrived,
        Err(_) if name.eq_ignore_ascii_case("localhost") => arrived.is_loopback(),
        Err(_) => !bound.ip().is_loopback(),
    }
}

/// The answer to a request naming another host: what to open instead.
#[must_use]
pub fn misdirected(bound: SocketAddr) -> Response {
    let shown = if bound.ip().is_unspecified() {
        format!("http://THIS-MACHINE'S-ADDRESS:{}/", bound.port())
    } else {
        format!("http://{bound}/")
    };
    Response::text(
        421,
        &format!(
            "refused: this server answers only at its own address; open the address \
             beforeafter printed ({shown}), not another name for it\n"
        ),
    )
}

/// `name:port`, `[v6]:port`, or either without the port; `None` when malformed.
fn split_host(host: &str) -> Option<(&str, Option<u16>)> {
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']')?;
            v6.parse::<std::net::Ipv6Addr>().ok()?;
            let port = if after.is_empty() {
                None
            } else {
                Some(after.strip_prefix(':')?)
            };
            (v6, port)
        }
        None => match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        },
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    let bracketed = host.starts_with('[');
    let odd = |c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_');
    (!name.is_empty() && (bracketed || !name.contains(odd))).then_some((name, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_server_answers_only_to_its_own_address_or_localhost() {
        let v4 = at("127.0.0.1:8080");
        for ok in ["127.0.0.1:8080", "localhost:8080", "LocalHost:8080"] {
            assert!(host_allowed(Some(ok), v4, v4), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.1:8081",
            "127.0.0.1",
            "[::1]:8080",
            "localhost",
            "127.0.0.2:8080",
            "",
            ":8080",
            "127.0.0.1:80x",
            "user@127.0.0.1:8080",
        ] {
            assert!(!host_allowed(Some(bad), v4, v4), "{bad}");
        }
        assert!(!host_allowed(None, v4, v4), "no Host at all");
        let v6 = at("[::1]:9000");
        assert!(host_allowed(Some("[::1]:9000"), v6, v6));
        assert!(host_allowed(Some("localhost:9000"), v6, v6));
        assert!(!host_allowed(Some("127.0.0.1:9000"), v6, v6));
        assert!(!host_allowed(Some("[::1]"), v6, v6));
        assert!(!host_allowed(Some("[::1:9000"), v6, v6));
    }

    #[test]
    fn port_80_may_be_left_out_as_browsers_do() {
        let v4 = at("127.0.0.1:80");
        assert!(host_allowed(Some("127.0.0.1"), v4, v4));
        assert!(host_allowed(Some("localhost"), v4, v4));
    }

    #[test]
    fn lan_server_takes_any_name_but_only_its_own_address_and_port() {
        let bound = at("0.0.0.0:8080");
        let lan = at("192.168.1.5:8080");
        assert!(host_allowed(Some("clinic-pc.local:8080"), bound, lan));
        assert!(host_allowed(Some("192.168.1.5:8080"), bound, lan));
        assert!(!host_allowed(Some("192.168.1.6:8080"), bound, lan));
        assert!(!host_allowed(Some("clinic-pc.local:9999"), bound, lan));
        assert!(!host_allowed(Some("localhost:8080"), bound, lan));
        assert!(!host_allowed(None, bound, lan));
        let looped = at("127.0.0.1:8080");
        assert!(host_allowed(Some("localhost:8080"), bound, looped));
        // An IPv4 client of a server on [::] arrives at a mapped address.
        let mapped = at("[::ffff:192.168.1.5]:8080");
        assert!(host_allowed(
            Some("192.168.1.5:8080"),
            at("[::]:8080"),
            mapped
        ));
    }

    #[test]
    fn only_loopback_is_served_without_allow_lan() {
        assert!(refuse_lan(at("127.0.0.1:0"), false).is_ok());
        assert!(refuse_lan(at("[::1]:0"), false).is_ok());
        let err = refuse_lan(at("0.0.0.0:8080"), false).unwrap_err();
        assert!(err.to_string().contains("--allow-lan"), "{err}");
        assert!(refuse_lan(at("[::]:8080"), false).is_err());
        assert!(refuse_lan(at("0.0.0.0:8080"), true).is_ok());
    }
}
