//! The demo's self-signed certificate, made with rcgen and reused while it covers every host, so
//! a browser exception made for it keeps working across runs. Besides `*.localhost` it names each
//! host explicitly: TLS clients (rustls, NSS, Chromium) refuse a wildcard with fewer than two
//! labels after it, so `*.localhost` alone would not do.

use std::path::{Path, PathBuf};

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

use super::DemoError;

/// Where the demo certificate and key are.
#[derive(Debug, Clone)]
pub struct DemoCert {
    /// PEM certificate.
    pub cert: PathBuf,
    /// PEM key.
    pub key: PathBuf,
}

/// Returns the demo certificate in `dir/tls` for `hosts`, making a new one when it is missing or
/// does not name every host.
pub fn ensure(dir: &Path, hosts: &[String]) -> Result<DemoCert, DemoError> {
    let tls = dir.join("tls");
    let paths = DemoCert {
        cert: tls.join("demo.crt"),
        key: tls.join("demo.key"),
    };
    let mut names = vec!["localhost".to_string(), "*.localhost".to_string()];
    names.extend(hosts.iter().cloned());
    if paths.key.is_file() && covers(&paths.cert, &names) {
        return Ok(paths);
    }
    std::fs::create_dir_all(&tls).map_err(|source| DemoError::Write {
        path: tls.clone(),
        source,
    })?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(names)?;
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "Pforte demo");
    params.distinguished_name = name;
    let cert = params.self_signed(&key)?;
    write_private(&paths.key, &key.serialize_pem())?;
    std::fs::write(&paths.cert, cert.pem()).map_err(|source| DemoError::Write {
        path: paths.cert.clone(),
        source,
    })?;
    Ok(paths)
}

/// True when the PEM certificate at `path` names every one of `names`.
fn covers(path: &Path, names: &[String]) -> bool {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let Ok(der) = CertificateDer::from_pem_file(path) else {
        return false;
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
        return false;
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return false;
    };
    let present: Vec<String> = san
        .value
        .general_names
        .iter()
        .filter_map(|n| match n {
            x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
            _ => None,
        })
        .collect();
    cert.validity().is_valid() && names.iter().all(|n| present.contains(n))
}

fn write_private(path: &Path, text: &str) -> Result<(), DemoError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|source| DemoError::Write {
            path: path.to_path_buf(),
            source,
        })
}
