//! The demo's self-signed certificate, made once with rcgen and reused while valid, so a browser
//! exception made for it keeps working across runs.

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

/// Returns the demo certificate in `dir/tls`, making it first if it is missing.
pub fn ensure(dir: &Path) -> Result<DemoCert, DemoError> {
    let tls = dir.join("tls");
    let paths = DemoCert {
        cert: tls.join("demo.crt"),
        key: tls.join("demo.key"),
    };
    if paths.cert.is_file() && paths.key.is_file() {
        return Ok(paths);
    }
    std::fs::create_dir_all(&tls).map_err(|source| DemoError::Write {
        path: tls.clone(),
        source,
    })?;
    let key = KeyPair::generate()?;
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "*.localhost".to_string()])?;
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
