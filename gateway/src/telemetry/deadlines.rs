//! Readings that are a distance in time: how long each certificate name has left
//! (`pforte_tls_certificate_expiry_seconds{name}`) and how long the active signing key has been
//! signing (`pforte_signing_key_age_seconds`). The fixed end points (a certificate's notAfter,
//! the key's activation) are read from the files at start and at every reload; the distance is
//! computed at scrape time from the gateway's clock, so the value is right at any moment
//! between reloads, and a test moves a manual clock to see it fall.

use std::sync::{Arc, Mutex, PoisonError};

use pforte_session::Clock;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntGauge, IntGaugeVec, Opts};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::config::{CertificatePaths, Keys};

/// The end points, as unix seconds.
#[derive(Debug, Default)]
struct EndPoints {
    /// Each certificate name's notAfter, the first certificate listed for a name winning (as
    /// SNI picks it).
    not_after: Vec<(String, i64)>,
    /// When the active signing key started signing; `None` without `[keys]`.
    key_active_since: Option<i64>,
}

/// The collector of both gauges, registered by [`super::Metrics::new`].
#[derive(Clone)]
pub struct Deadlines {
    clock: Clock,
    ends: Arc<Mutex<EndPoints>>,
    expiry: IntGaugeVec,
    key_age: IntGauge,
}

impl std::fmt::Debug for Deadlines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deadlines").finish_non_exhaustive()
    }
}

impl Deadlines {
    /// Both gauges, reading the time from `clock` at each scrape; empty until [`Self::load`].
    pub fn new(clock: Clock) -> Result<Self, prometheus::Error> {
        Ok(Self {
            clock,
            ends: Arc::default(),
            expiry: IntGaugeVec::new(
                Opts::new(
                    "pforte_tls_certificate_expiry_seconds",
                    "Seconds until the certificate served for this name expires (notAfter); negative once expired.",
                ),
                &["name"],
            )?,
            key_age: IntGauge::new(
                "pforte_signing_key_age_seconds",
                "Seconds since the active signing key started signing (its activation, or its creation for the first key).",
            )?,
        })
    }

    /// Reads the end points from the files of a load that is now in force: the certificates'
    /// notAfter and the key directory's active key. A file that cannot be read now (it was
    /// read a moment ago by the load) leaves its names out, logged.
    pub fn load(&self, certificates: &[CertificatePaths], keys: Option<&Keys>) {
        let mut not_after: Vec<(String, i64)> = Vec::new();
        for pair in certificates {
            match leaf_deadline(pair) {
                Ok((names, end)) => {
                    for name in names {
                        if !not_after.iter().any(|(seen, _)| *seen == name) {
                            not_after.push((name, end));
                        }
                    }
                }
                Err(reason) => tracing::warn!(
                    cert = %pair.cert.display(), %reason,
                    "certificate expiry not exported"
                ),
            }
        }
        let key_active_since = keys.and_then(active_since);
        let mut ends = self.ends.lock().unwrap_or_else(PoisonError::into_inner);
        *ends = EndPoints {
            not_after,
            key_active_since,
        };
    }

    /// Sets the gauges for the time now; `false` when no signing key is known, and its age is
    /// not to be exported (a zero would read as "just rotated").
    fn update(&self) -> bool {
        let now = i64::try_from(self.clock.now().unix_secs()).unwrap_or(i64::MAX);
        let ends = self.ends.lock().unwrap_or_else(PoisonError::into_inner);
        self.expiry.reset();
        for (name, end) in &ends.not_after {
            self.expiry
                .with_label_values(&[name])
                .set(end.saturating_sub(now));
        }
        match ends.key_active_since {
            Some(since) => {
                self.key_age.set(now.saturating_sub(since));
                true
            }
            None => false,
        }
    }
}

impl Collector for Deadlines {
    fn desc(&self) -> Vec<&Desc> {
        let mut descs = self.expiry.desc();
        descs.extend(self.key_age.desc());
        descs
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let has_key = self.update();
        let mut families = self.expiry.collect();
        if has_key {
            families.extend(self.key_age.collect());
        }
        families
    }
}

/// The DNS names of a chain file's first certificate and its notAfter (unix seconds).
fn leaf_deadline(pair: &CertificatePaths) -> Result<(Vec<String>, i64), String> {
    let leaf = CertificateDer::pem_file_iter(&pair.cert)
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no certificate")?
        .map_err(|e| e.to_string())?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|e| e.to_string())?;
    let names = cert
        .subject_alternative_name()
        .map_err(|e| e.to_string())?
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    x509_parser::extensions::GeneralName::DNSName(dns) => {
                        Some(dns.to_ascii_lowercase())
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((names, cert.validity().not_after.timestamp()))
}

/// When the active key of the key directory started signing, or `None` (logged) when the
/// directory cannot be listed now.
fn active_since(keys: &Keys) -> Option<i64> {
    let listed = pforte_keys::KeyDir::new(&keys.dir).list();
    let infos = match listed {
        Ok(infos) => infos,
        Err(error) => {
            tracing::warn!(%error, "signing key age not exported");
            return None;
        }
    };
    let active = infos
        .iter()
        .find(|info| info.state == pforte_keys::KeyState::Active)?;
    i64::try_from(active.activated.unwrap_or(active.created)).ok()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use pforte_session::Timestamp;

    use super::*;

    /// A certificate for `names` valid until `not_after` (unix seconds), written to `dir`.
    fn certificate(dir: &std::path::Path, names: &[&str], not_after: i64) -> CertificatePaths {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.not_after = rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs(not_after as u64);
        let cert = params.self_signed(&key).unwrap();
        let stem = format!("{not_after}");
        let paths = CertificatePaths {
            cert: dir.join(format!("{stem}.crt")),
            key: dir.join(format!("{stem}.key")),
            ocsp: None,
        };
        std::fs::write(&paths.cert, cert.pem()).unwrap();
        std::fs::write(&paths.key, key.serialize_pem()).unwrap();
        paths
    }

    fn value(deadlines: &Deadlines, name: &str) -> Option<i64> {
        deadlines.collect().iter().find_map(|family| {
            family.get_metric().iter().find_map(|metric| {
                let labelled = metric.get_label().iter().any(|l| l.value() == name);
                (family.name() == "pforte_signing_key_age_seconds" && name.is_empty() || labelled)
                    .then(|| metric.get_gauge().get_value() as i64)
            })
        })
    }

    #[test]
    fn expiry_falls_as_the_clock_moves_and_the_first_certificate_of_a_name_wins() {
        const NOW: i64 = 1_800_000_000;
        let dir = tempfile::tempdir().unwrap();
        let soon = certificate(
            dir.path(),
            &["login.example.org", "*.apps.example.org"],
            NOW + 86_400,
        );
        let later = certificate(
            dir.path(),
            &["login.example.org", "other.example.org"],
            NOW + 30 * 86_400,
        );
        let clock = Clock::manual(Timestamp::from_unix_secs(NOW as u64));
        let deadlines = Deadlines::new(clock.clone()).unwrap();
        deadlines.load(&[soon, later], None);
        assert_eq!(value(&deadlines, "login.example.org"), Some(86_400));
        assert_eq!(value(&deadlines, "*.apps.example.org"), Some(86_400));
        assert_eq!(value(&deadlines, "other.example.org"), Some(30 * 86_400));
        clock.advance(Duration::from_secs(2 * 86_400)).unwrap();
        assert_eq!(
            value(&deadlines, "login.example.org"),
            Some(-86_400),
            "expired"
        );
        assert_eq!(value(&deadlines, ""), None, "no key configured, no age");
    }

    #[test]
    fn key_age_counts_from_the_active_keys_activation() {
        let dir = tempfile::tempdir().unwrap();
        let keys = pforte_keys::KeyDir::new(dir.path());
        for made in [1_000, 2_000] {
            keys.generate(pforte_keys::KeySpec::default(), made)
                .unwrap();
        }
        keys.rotate(5_000).unwrap();
        let clock = Clock::manual(Timestamp::from_unix_secs(9_000));
        let deadlines = Deadlines::new(clock.clone()).unwrap();
        let config = Keys {
            dir: dir.path().to_path_buf(),
            retire_after: Duration::from_secs(86_400),
        };
        deadlines.load(&[], Some(&config));
        assert_eq!(value(&deadlines, ""), Some(4_000));
        clock.advance(Duration::from_secs(60)).unwrap();
        assert_eq!(value(&deadlines, ""), Some(4_060));
    }
}
