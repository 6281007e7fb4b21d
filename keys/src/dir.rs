//! The key directory: the one place keys are created, rotated, retired and
//! read from. Writers hold the directory lock for a whole change, readers a
//! shared one (see [`crate::fsio`]), so every reader sees a consistent set.

use std::fs::DirBuilder;
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::alg::{Alg, KeySpec};
use crate::error::KeyError;
use crate::fsio::{self, DirLock, io_err};
use crate::key::PublishedKey;
use crate::keyset::KeySet;
use crate::meta::{KeyMeta, KeyState};

/// How long a retired key stays published by default: longer than any token
/// Pforte signs lives, plus the time clients cache a JWKS.
pub const DEFAULT_RETIRE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A directory of signing keys shared by all replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDir {
    path: PathBuf,
    retire_after: u64,
}

/// One key's metadata, as `list` reports it; timestamps are unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id.
    pub kid: String,
    /// The algorithm it signs with.
    pub alg: Alg,
    /// Where it is in its life.
    pub state: KeyState,
    /// When it was generated.
    pub created: u64,
    /// When it started signing, if it has.
    pub activated: Option<u64>,
    /// When it stopped signing, if it has.
    pub retired: Option<u64>,
}

/// The kids a rotation touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The former next key, now signing.
    pub activated: String,
    /// The former active key, now retired.
    pub retired: String,
    /// The freshly generated next key.
    pub next: String,
}

struct Entry {
    kid: String,
    meta_path: PathBuf,
    meta: KeyMeta,
}

impl KeyDir {
    /// A key directory at `path`, keeping retired keys published for [`DEFAULT_RETIRE_AFTER`].
    pub fn new(path: impl Into<PathBuf>) -> KeyDir {
        KeyDir {
            path: path.into(),
            retire_after: DEFAULT_RETIRE_AFTER.as_secs(),
        }
    }

    /// Sets how long retired keys stay in the JWKS and keep verifying.
    pub fn with_retire_after(mut self, window: Duration) -> KeyDir {
        self.retire_after = window.as_secs();
        self
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Generates a key and returns its kid. It becomes `next` (published, not
    /// yet signing), or `active` when no key is active, such as the first key ever.
    pub fn generate(&self, spec: KeySpec, now: u64) -> Result<String, KeyError> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.path)
            .map_err(io_err(&self.path))?;
        let _lock = DirLock::exclusive(&self.path)?;
        let entries = self.entries()?;
        if let Some(next) = entries.iter().find(|e| e.meta.state == KeyState::Next) {
            return Err(KeyError::NextExists {
                kid: next.kid.clone(),
            });
        }
        let state = if entries.iter().any(|e| e.meta.state == KeyState::Active) {
            KeyState::Next
        } else {
            KeyState::Active
        };
        self.write_new_key(spec, state, now)
    }

    /// Promotes the next key to active, retires the active one and generates a
    /// fresh next key of the same kind as the new active key.
    pub fn rotate(&self, now: u64) -> Result<Rotation, KeyError> {
        let _lock = DirLock::exclusive(&self.path)?;
        let entries = self.entries()?;
        let active = self.single_active(&entries)?;
        let next = entries
            .iter()
            .find(|e| e.meta.state == KeyState::Next)
            .ok_or_else(|| KeyError::NoNextKey {
                dir: self.path.clone(),
            })?;
        let pem_path = self.pem_path(&next.kid);
        let der = read_pem_der(&pem_path, &next.meta_path)?;
        let spec = KeySpec::of_pkcs8(next.meta.alg, &der).ok_or_else(|| KeyError::BadKey {
            path: pem_path.clone(),
            reason: format!("not a PKCS#8 {} key", next.meta.alg),
        })?;
        let fresh = self.write_new_key(spec, KeyState::Next, now)?;
        self.write_meta(
            &next.kid,
            &KeyMeta {
                state: KeyState::Active,
                activated: Some(now),
                ..next.meta.clone()
            },
        )?;
        self.write_meta(
            &active.kid,
            &KeyMeta {
                state: KeyState::Retired,
                retired: Some(now),
                ..active.meta.clone()
            },
        )?;
        Ok(Rotation {
            activated: next.kid.clone(),
            retired: active.kid.clone(),
            next: fresh,
        })
    }

    /// Retires a key (a no-op for a retired one). The only active key is
    /// refused, since [`KeyDir::rotate`] replaces it without a gap; with several
    /// active keys (a rotation cut short by a crash) retiring the extras repairs
    /// the directory.
    pub fn retire(&self, kid: &str, now: u64) -> Result<(), KeyError> {
        let _lock = DirLock::exclusive(&self.path)?;
        let entries = self.entries()?;
        let active_count = entries
            .iter()
            .filter(|e| e.meta.state == KeyState::Active)
            .count();
        let entry =
            entries
                .into_iter()
                .find(|e| e.kid == kid)
                .ok_or_else(|| KeyError::UnknownKid {
                    kid: kid.to_owned(),
                })?;
        match entry.meta.state {
            KeyState::Active if active_count == 1 => Err(KeyError::RetireActive {
                kid: kid.to_owned(),
            }),
            KeyState::Retired => Ok(()),
            KeyState::Next | KeyState::Active => self.write_meta(
                kid,
                &KeyMeta {
                    state: KeyState::Retired,
                    retired: Some(now),
                    ..entry.meta
                },
            ),
        }
    }

    /// Deletes retired keys that have left the JWKS; returns their kids.
    pub fn prune(&self, now: u64) -> Result<Vec<String>, KeyError> {
        let _lock = DirLock::exclusive(&self.path)?;
        let mut pruned = Vec::new();
        for entry in self.entries()? {
            if !entry.meta.is_published(now, self.retire_after) {
                fsio::remove(&self.path, &format!("{}.toml", entry.kid))?;
                fsio::remove(&self.path, &format!("{}.pem", entry.kid))?;
                pruned.push(entry.kid);
            }
        }
        Ok(pruned)
    }

    /// Every key's metadata, sorted by kid.
    pub fn list(&self) -> Result<Vec<KeyInfo>, KeyError> {
        let _lock = DirLock::shared(&self.path)?;
        Ok(self
            .entries()?
            .into_iter()
            .map(|e| KeyInfo {
                kid: e.kid,
                alg: e.meta.alg,
                state: e.meta.state,
                created: e.meta.created,
                activated: e.meta.activated,
                retired: e.meta.retired,
            })
            .collect())
    }

    /// Reads the keys published at `now` into a snapshot, refusing a directory
    /// with zero or several active keys, metadata without its key, or a key
    /// that does not parse; every error names the file or directory at fault.
    /// It does blocking file I/O and may wait for a writer: call it off the
    /// async runtime (`spawn_blocking`), at start-up and on reload.
    pub fn load(&self, now: u64) -> Result<KeySet, KeyError> {
        let _lock = DirLock::shared(&self.path)?;
        let entries = self.entries()?;
        let active_kid = self.single_active(&entries)?.kid.clone();
        let mut active = None;
        let mut others = Vec::new();
        for entry in entries
            .iter()
            .filter(|e| e.meta.is_published(now, self.retire_after))
        {
            let pem_path = self.pem_path(&entry.kid);
            let pem = read_key_file(&pem_path, &entry.meta_path)?;
            let key = PublishedKey::from_pem(
                &entry.kid,
                entry.meta.alg,
                entry.meta.state,
                &pem,
                &pem_path,
            )?;
            if entry.kid == active_kid {
                active = Some(key);
            } else {
                others.push(key);
            }
        }
        let active = active.ok_or_else(|| KeyError::NoActiveKey {
            dir: self.path.clone(),
        })?;
        Ok(KeySet::new(active, others))
    }

    fn single_active<'e>(&self, entries: &'e [Entry]) -> Result<&'e Entry, KeyError> {
        let mut active = entries.iter().filter(|e| e.meta.state == KeyState::Active);
        match (active.next(), active.next()) {
            (Some(one), None) => Ok(one),
            (None, _) => Err(KeyError::NoActiveKey {
                dir: self.path.clone(),
            }),
            (Some(_), Some(_)) => Err(KeyError::SeveralActiveKeys {
                dir: self.path.clone(),
                kids: entries
                    .iter()
                    .filter(|e| e.meta.state == KeyState::Active)
                    .map(|e| e.kid.clone())
                    .collect(),
            }),
        }
    }

    /// Reads every `<kid>.toml`; dot files (the lock, temporary files, a
    /// Kubernetes Secret's `..data`) and `.pem` files without metadata are skipped.
    fn entries(&self) -> Result<Vec<Entry>, KeyError> {
        let mut entries = Vec::new();
        for dirent in std::fs::read_dir(&self.path).map_err(io_err(&self.path))? {
            let dirent = dirent.map_err(io_err(&self.path))?;
            let name = dirent.file_name();
            let Some(kid) = name.to_str().and_then(|n| n.strip_suffix(".toml")) else {
                continue;
            };
            if kid.starts_with('.') {
                continue;
            }
            let meta_path = dirent.path();
            if !fsio::is_valid_kid(kid) {
                return Err(KeyError::Metadata {
                    path: meta_path,
                    reason: "the file name must be <kid>.toml with a URL-safe kid".to_owned(),
                });
            }
            let text = std::fs::read_to_string(&meta_path).map_err(io_err(&meta_path))?;
            let meta = KeyMeta::parse(&meta_path, &text)?;
            entries.push(Entry {
                kid: kid.to_owned(),
                meta_path,
                meta,
            });
        }
        entries.sort_by(|a, b| a.kid.cmp(&b.kid));
        Ok(entries)
    }

    /// Writes a new key: private key first, so metadata never names a missing key.
    fn write_new_key(&self, spec: KeySpec, state: KeyState, now: u64) -> Result<String, KeyError> {
        let kid = fsio::new_kid()?;
        let der = spec.generate_pkcs8()?;
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der));
        fsio::write_atomic(&self.path, &format!("{kid}.pem"), pem.as_bytes())?;
        let meta = KeyMeta {
            alg: spec.alg(),
            state,
            created: now,
            activated: (state == KeyState::Active).then_some(now),
            retired: None,
        };
        self.write_meta(&kid, &meta)?;
        Ok(kid)
    }

    fn write_meta(&self, kid: &str, meta: &KeyMeta) -> Result<(), KeyError> {
        fsio::write_atomic(
            &self.path,
            &format!("{kid}.toml"),
            meta.render()?.as_bytes(),
        )
    }

    fn pem_path(&self, kid: &str) -> PathBuf {
        self.path.join(format!("{kid}.pem"))
    }
}

/// Reads a private key file; a missing one is reported against its metadata file.
fn read_key_file(pem_path: &Path, meta_path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(pem_path).map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            KeyError::MissingKey {
                path: meta_path.to_owned(),
                expected: pem_path.to_owned(),
            }
        } else {
            io_err(pem_path)(e)
        }
    })
}

fn read_pem_der(pem_path: &Path, meta_path: &Path) -> Result<Vec<u8>, KeyError> {
    let text = read_key_file(pem_path, meta_path)?;
    pem::parse(text)
        .map(pem::Pem::into_contents)
        .map_err(|e| KeyError::BadKey {
            path: pem_path.to_owned(),
            reason: e.to_string(),
        })
}
