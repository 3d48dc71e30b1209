//! `s3://bucket/prefix`: AWS S3 or any S3-compatible store (Cloudflare R2, Backblaze B2,
//! MinIO). Each request is signed by `rusty-s3` (AWS Signature V4, as a presigned address) and
//! sent by `ureq`; listings are parsed by `rusty-s3` too. The keys come from `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) or the user's profile in
//! `~/.aws/credentials` (`AWS_PROFILE`, `AWS_SHARED_CREDENTIALS_FILE`), never from the address.
//! AWS itself is addressed by bucket host name; another store (`?endpoint=`, or
//! `AWS_ENDPOINT_URL`) by path, which every S3-compatible store accepts. An object appears
//! only when its upload is complete, so no temporary name is needed.

use std::time::Duration;

use rusty_s3::actions::{ListObjectsV2, S3Action};
use rusty_s3::{Bucket, Credentials, UrlStyle};

use super::{Failed, Put, Store};

/// How long a signed request stays valid.
const SIGNED_FOR: Duration = Duration::from_secs(3600);
/// Uploads in flight at once.
const PARALLEL: usize = 8;

pub struct S3 {
    bucket: Bucket,
    prefix: String,
    credentials: Option<Credentials>,
    agent: ureq::Agent,
}

impl S3 {
    pub fn new(
        bucket: &str,
        prefix: &str,
        endpoint: Option<&str>,
        region: Option<&str>,
    ) -> Result<S3, String> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let region = (region.map(str::to_owned))
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let (endpoint, style) = match endpoint
            .map(str::to_owned)
            .or_else(|| env("AWS_ENDPOINT_URL"))
        {
            Some(e) => (e, UrlStyle::Path),
            None => (
                format!("https://s3.{region}.amazonaws.com"),
                UrlStyle::VirtualHost,
            ),
        };
        let url = endpoint
            .parse()
            .map_err(|e| format!("endpoint {endpoint:?}: {e}"))?;
        let bucket = Bucket::new(url, style, bucket.to_owned(), region)
            .map_err(|e| format!("bucket {bucket:?} at {endpoint}: {e}"))?;
        Ok(S3 {
            bucket,
            prefix: prefix.trim_matches('/').to_owned(),
            credentials: Credentials::from_env().or_else(profile),
            agent: super::super::net::agent(Duration::from_secs(300)),
        })
    }

    fn key(&self, path: &str) -> String {
        if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("{}/{path}", self.prefix)
        }
    }

    fn keys(&self) -> Result<&Credentials, Failed> {
        self.credentials.as_ref().ok_or_else(|| {
            Failed::whole(
                "no S3 keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add them to \
                 ~/.aws/credentials (the profile in AWS_PROFILE, else [default])",
            )
        })
    }

    fn put_one(&self, put: &Put) -> Result<(), Failed> {
        let url = (self.bucket)
            .put_object(Some(self.keys()?), &self.key(&put.path))
            .sign(SIGNED_FOR);
        let mut request = self
            .agent
            .put(url.as_str())
            .header("content-type", put.content_type);
        if let Some(cache) = &put.cache_control {
            request = request.header("cache-control", cache);
        }
        let resp = request.send(&put.bytes[..]);
        answered(resp, &put.path).map(|_| ())
    }
}

/// The response when it is a success (2xx), None for 404, else the failure in words.
fn answered(
    resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    path: &str,
) -> Result<Option<Vec<u8>>, Failed> {
    let mut resp = resp.map_err(|e| Failed::on(path, e))?;
    let status = resp.status();
    let body = super::super::net::body(&mut resp).unwrap_or_default();
    if status.is_success() {
        return Ok(Some(body));
    }
    let text = String::from_utf8_lossy(&body);
    let tag = |t: &str| {
        let start = text.find(&format!("<{t}>"))? + t.len() + 2;
        let end = text[start..].find("</")? + start;
        Some(text[start..end].to_owned())
    };
    let code = tag("Code").unwrap_or_default();
    if status.as_u16() == 404 && code != "NoSuchBucket" {
        return Ok(None);
    }
    let fix = match (status.as_u16(), code.as_str()) {
        (404, _) => "the bucket does not exist: check its name in the address",
        (401 | 403, _) => {
            "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or your profile) and that these keys may write to the bucket"
        }
        (301 | 400, "PermanentRedirect" | "AuthorizationHeaderMalformed") => {
            "the bucket is in another region: add ?region=... to the address"
        }
        _ => "check the address and the store's status",
    };
    let message = tag("Message").unwrap_or_default();
    Err(Failed::on(
        path,
        format!("the store answered {status} {code} {message}: {fix}"),
    ))
}

impl Store for S3 {
    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, Failed> {
        let url = (self.bucket)
            .get_object(Some(self.keys()?), &self.key(path))
            .sign(SIGNED_FOR);
        answered(self.agent.get(url.as_str()).call(), path)
    }

    fn list(&mut self) -> Result<Vec<String>, Failed> {
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let (mut files, mut token) = (Vec::new(), None::<String>);
        loop {
            let mut action = ListObjectsV2::new(&self.bucket, Some(self.keys()?));
            action.with_prefix(prefix.as_str());
            if let Some(t) = &token {
                action.with_continuation_token(t.as_str());
            }
            let url = action.sign(SIGNED_FOR);
            let body = answered(self.agent.get(url.as_str()).call(), "the listing")?;
            let text = String::from_utf8_lossy(&body.unwrap_or_default()).into_owned();
            let listed = ListObjectsV2::parse_response(&text)
                .map_err(|e| Failed::whole(format!("the store's listing is not S3's: {e}")))?;
            let keys = listed.contents.into_iter().map(|c| c.key);
            files.extend(keys.filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned)));
            match listed.next_continuation_token {
                Some(t) => token = Some(t),
                None => return Ok(files),
            }
        }
    }

    fn batch(&self) -> usize {
        PARALLEL
    }

    fn put(&mut self, files: &[Put], then: Option<&Put>) -> Result<(), Failed> {
        let this = &*self;
        let results: Vec<Result<(), Failed>> = std::thread::scope(|s| {
            let running: Vec<_> = (files.chunks(files.len().div_ceil(PARALLEL).max(1)))
                .map(|chunk| s.spawn(move || chunk.iter().try_for_each(|p| this.put_one(p))))
                .collect();
            running
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Failed::whole("an upload stopped")))
                })
                .collect()
        });
        results.into_iter().collect::<Result<(), Failed>>()?;
        then.map_or(Ok(()), |p| self.put_one(p))
    }

    fn delete(
        &mut self,
        paths: &[String],
        _folders: &[String],
        then: Option<&Put>,
    ) -> Result<(), Failed> {
        for path in paths {
            let url = (self.bucket)
                .delete_object(Some(self.keys()?), &self.key(path))
                .sign(SIGNED_FOR);
            answered(self.agent.delete(url.as_str()).call(), path)?;
        }
        then.map_or(Ok(()), |p| self.put_one(p))
    }
}

/// The keys of the user's profile in the shared credentials file, if it has them.
fn profile() -> Option<Credentials> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let file = var("AWS_SHARED_CREDENTIALS_FILE")
        .or_else(|| var("HOME").map(|h| format!("{h}/.aws/credentials")))?;
    let name = var("AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
    let text = std::fs::read_to_string(file).ok()?;
    let values = profile_values(&text, &name);
    let get = |k: &str| {
        values
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let (key, secret) = (get("aws_access_key_id")?, get("aws_secret_access_key")?);
    Some(match get("aws_session_token") {
        Some(token) => Credentials::new_with_token(key, secret, token),
        None => Credentials::new(key, secret),
    })
}

/// `key = value` pairs of the `[name]` section of an AWS credentials file.
fn profile_values(text: &str, name: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut values = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = section.trim() == name;
        } else if let (true, Some((k, v))) = (inside, line.split_once('=')) {
            values.push((k.trim().to_lowercase(), v.trim().to_owned()));
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_sections() {
        let text = "[other]\naws_access_key_id = A\n\n[clinic]\naws_access_key_id = K\n\
                    aws_secret_access_key = S\n# note\n";
        let v = profile_values(text, "clinic");
        assert_eq!(
            v,
            [
                ("aws_access_key_id".into(), "K".into()),
                ("aws_secret_access_key".into(), "S".into())
            ]
        );
    }

    #[test]
    fn keys_under_the_prefix() {
        let s = S3::new("site", "/gallery/", Some("http://127.0.0.1:9000"), None).unwrap();
        assert_eq!(s.key("c1/index.html"), "gallery/c1/index.html");
        assert!(S3::new("site", "", Some("not an address"), None).is_err());
    }
}
