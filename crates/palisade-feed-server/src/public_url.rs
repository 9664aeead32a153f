//! `--public-url`: where readers reach this server, so the feed's own links (JSON Feed
//! `home_page_url`/`feed_url`, the RSS and Atom self links, the OSV records' `WEB` reference, the
//! page's links) point here instead of at kubernetes.io. Without it the outputs keep upstream's
//! URLs, byte-compatible with `palisade feed build`.

use crate::ServerError;
use palisade_feed::Site;
use std::net::IpAddr;

/// Checks and normalises a public URL: `https://`, or `http://` for a loopback host only (a
/// feed read over plain HTTP across a network can be altered on the way); no credentials,
/// query or fragment. Returns it without a trailing `/`, ready to have paths appended.
pub fn parse(text: &str) -> Result<String, ServerError> {
    let bad = |message: String| ServerError::Config {
        setting: "--public-url",
        message,
    };
    let url = url::Url::parse(text.trim()).map_err(|e| {
        bad(format!(
            "`{text}` is not a URL: {e} (e.g. https://cve.example.org)"
        ))
    })?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(bad(format!(
                "`{text}`: plain http is allowed only for a loopback host; use https://"
            )));
        }
        other => return Err(bad(format!("`{text}`: scheme `{other}` is not https"))),
    }
    if url.host().is_none() {
        return Err(bad(format!("`{text}` has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(format!("`{text}` must not contain credentials")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(format!(
            "`{text}` must not have a query or fragment: give the base the routes are under"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// The feed's self description for a server reachable at `base` (from [`parse`]); `None`:
/// upstream's.
pub fn site(base: Option<&str>) -> Site {
    let Some(base) = base else {
        return Site::default();
    };
    Site {
        home_page_url: format!("{base}/"),
        feed_url: format!("{base}/feed.json"),
        page_url: format!("{base}/"),
        rss_url: format!("{base}/feed.xml"),
        atom_url: format!("{base}/atom.xml"),
        // The page's rows carry the CVE ID as their element id.
        cve_page_url: Some(format!("{base}/#")),
        ..Site::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_and_normalised() {
        for (given, want) in [
            ("https://cve.example.org", "https://cve.example.org"),
            ("https://CVE.Example.org/", "https://cve.example.org"),
            (
                "https://example.org:8443/k8s/cve/",
                "https://example.org:8443/k8s/cve",
            ),
            ("https://example.org:443/", "https://example.org"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:8080/", "http://localhost:8080"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ] {
            assert_eq!(parse(given).ok().as_deref(), Some(want), "{given}");
        }
    }

    #[test]
    fn rejected_with_the_reason() {
        for (given, needle) in [
            ("cve.example.org", "is not a URL"),
            (
                "http://cve.example.org",
                "plain http is allowed only for a loopback host",
            ),
            (
                "http://10.0.0.1:8080",
                "plain http is allowed only for a loopback host",
            ),
            ("ftp://cve.example.org", "scheme `ftp`"),
            ("https://user:pw@cve.example.org", "credentials"),
            ("https://cve.example.org/?a=1", "query or fragment"),
            ("https://cve.example.org/#x", "query or fragment"),
            ("https://", "is not a URL"),
        ] {
            let e = parse(given)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                e.contains("--public-url") && e.contains(needle),
                "{given}: {e}"
            );
        }
    }

    #[test]
    fn default_is_upstream() {
        assert_eq!(site(None), Site::default());
        let s = site(Some("https://cve.example.org/k8s"));
        assert_eq!(s.feed_url, "https://cve.example.org/k8s/feed.json");
        assert_eq!(s.title, Site::default().title);
    }
}
