//! The one HTTP client of the program (S3 publishing and `verify --url`): `ureq`, blocking,
//! with rustls on the ring provider (no C build: aws-lc stays out) and the system's
//! certificate store (rustls-platform-verifier), so a clinic's own CA in the system store is
//! trusted as the browser trusts it.

use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{RootCerts, TlsConfig};

/// An agent whose calls give every status back as a response (the caller decides what a 404
/// means), with `timeout` for each whole call.
pub fn agent(timeout: Duration) -> ureq::Agent {
    let tls = TlsConfig::builder()
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .root_certs(RootCerts::PlatformVerifier)
        .build();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .timeout_connect(Some(Duration::from_secs(30)))
        .user_agent(concat!("beforeafter/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build()
        .new_agent()
}

/// The most a response body may be (the largest gallery file is a few megabytes).
pub const MAX_BODY: u64 = 512 * 1024 * 1024;

/// The whole body of `resp`.
pub fn body(resp: &mut ureq::http::Response<ureq::Body>) -> Result<Vec<u8>, ureq::Error> {
    resp.body_mut().with_config().limit(MAX_BODY).read_to_vec()
}
