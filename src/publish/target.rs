//! Where a gallery is published: `file:///path`, `sftp://user@host[:port]/path` or
//! `s3://bucket/prefix`, parsed (the storage behind each is `store`). Secrets never pass through
//! here as text the user typed into a config file: SFTP authenticates through the system `ssh`
//! (the user's SSH agent, `~/.ssh/config` and known hosts, checked strictly), S3 through the
//! standard `AWS_*` environment variables or the user's profile (`~/.aws/credentials`).

use super::PublishError;

/// A parsed `--to` address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A folder on this computer or a mounted share.
    File { root: String },
    /// `user@host:port` and the absolute folder on the host.
    Sftp {
        user: Option<String>,
        host: String,
        port: Option<u16>,
        root: String,
    },
    /// A bucket, a prefix in it, and the store's address and region when not AWS's defaults.
    S3 {
        bucket: String,
        prefix: String,
        endpoint: Option<String>,
        region: Option<String>,
    },
}

const HELP: &str = "give file:///var/www/gallery, sftp://user@host[:port]/path/to/gallery \
                    or s3://bucket/prefix (with ?endpoint=https://...&region=... for a store \
                    other than AWS)";

impl Target {
    /// `--to` or `[publish] to`. No password or key is accepted in the address.
    pub fn parse(text: &str) -> Result<Target, PublishError> {
        let bad = |why: &str| PublishError::Target(format!("{text:?}: {why}; {HELP}"));
        let (scheme, rest) = text.split_once("://").ok_or_else(|| bad("no scheme"))?;
        match scheme {
            "file" => {
                let root = percent_decode(rest);
                if !root.starts_with('/') || root.len() < 2 {
                    return Err(bad("a file:// address needs an absolute folder"));
                }
                Ok(Target::File { root })
            }
            "sftp" => parse_sftp(rest).map_err(|why| bad(&why)),
            "s3" => parse_s3(rest).map_err(|why| bad(&why)),
            _ => Err(bad("unknown scheme")),
        }
    }

    /// The address as shown on screens and kept in records (it holds no secret).
    pub fn display(&self) -> String {
        match self {
            Target::File { root } => format!("file://{root}"),
            Target::Sftp {
                user,
                host,
                port,
                root,
            } => {
                let user = user.as_ref().map_or(String::new(), |u| format!("{u}@"));
                let port = port.map_or(String::new(), |p| format!(":{p}"));
                format!("sftp://{user}{host}{port}{root}")
            }
            Target::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
        }
    }

    /// Whether files on it carry the headers a web server sends (S3 serves what it stores).
    pub fn takes_headers(&self) -> bool {
        matches!(self, Target::S3 { .. })
    }
}

fn parse_sftp(rest: &str) -> Result<Target, String> {
    let (authority, path) = rest.split_once('/').ok_or("no folder after the host")?;
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((u, _)) if u.contains(':') => {
            return Err("no password in the address: use your SSH key or agent".into());
        }
        Some((u, h)) => (Some(percent_decode(u)), h),
        None => (None, authority),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
            let port = p.parse::<u16>().map_err(|_| format!("port {p:?}"))?;
            (h.to_owned(), Some(port))
        }
        _ => (hostport.to_owned(), None),
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    let root = format!("/{}", percent_decode(path.trim_end_matches('/')));
    if root == "/" {
        return Err("no folder after the host (publishing to / is refused)".into());
    }
    Ok(Target::Sftp {
        user,
        host,
        port,
        root,
    })
}

fn parse_s3(rest: &str) -> Result<Target, String> {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
    if bucket.is_empty() {
        return Err("no bucket".into());
    }
    let (mut endpoint, mut region) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("endpoint", v)) => endpoint = Some(percent_decode(v)),
            Some(("region", v)) => region = Some(percent_decode(v)),
            _ => {
                return Err(format!(
                    "{pair:?}: only endpoint= and region= (credentials come from AWS_* \
                     variables or your profile, never the address)"
                ));
            }
        }
    }
    Ok(Target::S3 {
        bucket: bucket.to_owned(),
        prefix: prefix.trim_matches('/').to_owned(),
        endpoint,
        region,
    })
}

fn percent_decode(s: &str) -> String {
    crate::http::percent_decode(s).unwrap_or_else(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            Target::parse("file:///srv/www/gallery").unwrap(),
            Target::File {
                root: "/srv/www/gallery".into()
            }
        );
        let t = Target::parse("sftp://clinic@example.org:2222/var/www/gallery/").unwrap();
        assert_eq!(
            t.display(),
            "sftp://clinic@example.org:2222/var/www/gallery"
        );
        let t = Target::parse("s3://bucket/site/gallery?endpoint=http://127.0.0.1:9000").unwrap();
        assert!(
            matches!(&t, Target::S3 { prefix, endpoint: Some(_), .. } if prefix == "site/gallery")
        );
        for bad in [
            "ftp://x/y",
            "sftp://u:pw@host/x",
            "sftp://host/",
            "file://relative",
            "s3://b/p?secret=x",
            "/var/www",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
