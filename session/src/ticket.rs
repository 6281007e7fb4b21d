//! SSO hand-over tickets: how a login on the login host reaches an app host.
//!
//! The session cookie is host-only, so the login host redirects to
//! `https://{app host}/.pforte/sso?ticket=T` and the app host (possibly another replica) trades
//! the ticket for the session id and sets its own cookie. A ticket is 256 random bits, lives
//! [`LIFETIME`], is bound to one host name, and is taken (read and deleted in one step) when
//! redeemed, so it works once.
//!
//! The store holds neither the ticket nor the session id in the clear, so a dump of it (a Redis
//! RDB file, a core image) gives nothing to replay:
//!
//! ```text
//! ticket ─┬─ SHA-256(lookup label ‖ ticket) ───────────────▶ the key it is filed under
//!         └─ HKDF-SHA256(seal salt, ticket) ─▶ AES-256-GCM key
//!              seal(expiry ‖ session id, aad = host) ──────▶ nonce ‖ ciphertext ‖ tag, the value
//! ```
//!
//! Redeeming for another host than the one named at issue fails authentication, as does a
//! value altered in the store; both read as "no ticket".

use std::fmt;
use std::time::Duration;

use aws_lc_rs::aead::{self, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::digest::{self, SHA256};
use aws_lc_rs::error::Unspecified;
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};

use crate::error::StoreError;
use crate::id::{ID_BYTES, IdError, SessionId, decode_secret, encode_secret};
use crate::time::Timestamp;

/// How long a ticket waits for its redirect: plenty for a browser, and short enough that a
/// ticket leaked through a history or proxy log is useless soon after.
pub(crate) const LIFETIME: Duration = Duration::from_secs(60);

/// Separates the lookup hash from any other SHA-256 of the same bytes.
const LOOKUP_LABEL: &[u8] = b"pforte sso ticket v1: lookup\0";
/// Separates the sealing key from the lookup hash.
const SEAL_SALT: &[u8] = b"pforte sso ticket v1: seal";
const SEAL_INFO: &[u8] = b"AES-256-GCM key";
static AEAD: &aead::Algorithm = &aead::AES_256_GCM;
const AEAD_KEY_BYTES: usize = 32;
/// AES-GCM's tag is the full 16 bytes.
const TAG_BYTES: usize = aead::MAX_TAG_LEN;
const EXPIRY_BYTES: usize = 8;
/// The stored value: nonce, then the sealed expiry and session id, then the tag.
pub(crate) const SEALED_BYTES: usize = NONCE_LEN + EXPIRY_BYTES + ID_BYTES + TAG_BYTES;

/// The secret a redirect carries; its `Debug` prints `***`.
///
/// Public (with [`Ticket::parse`], [`Ticket::seal`] and [`Ticket::open`]) for the fuzz targets in
/// `fuzz/`, which check that a value opens only for its ticket, host and time; the stores are
/// the only callers in the product.
pub struct Ticket([u8; ID_BYTES]);

impl Ticket {
    fn generate() -> Result<Self, IdError> {
        let mut bytes = [0u8; ID_BYTES];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| IdError::Random)?;
        Ok(Self(bytes))
    }

    /// Reads a ticket from a redirect as strictly as a cookie (see [`SessionId::parse`]);
    /// `None` for anything that cannot be one, whatever its size or bytes.
    pub fn parse(text: &str) -> Option<Self> {
        decode_secret(text).ok().map(Self)
    }

    /// Where the store files this ticket.
    pub(crate) fn lookup(&self) -> TicketKey {
        let mut hash = digest::Context::new(&SHA256);
        hash.update(LOOKUP_LABEL);
        hash.update(&self.0);
        let mut key = [0u8; ID_BYTES];
        key.copy_from_slice(hash.finish().as_ref());
        TicketKey(key)
    }

    fn sealing_key(&self) -> Result<RandomizedNonceKey, Unspecified> {
        let prk = Salt::new(HKDF_SHA256, SEAL_SALT).extract(&self.0);
        let mut key = [0u8; AEAD_KEY_BYTES];
        prk.expand(&[SEAL_INFO], AEAD)?.fill(&mut key)?;
        RandomizedNonceKey::new(AEAD, &key)
    }

    /// The value a store files for this ticket: `id` sealed for `host` until `expires`.
    pub fn seal(
        &self,
        id: &SessionId,
        host: &str,
        expires: Timestamp,
    ) -> Result<Vec<u8>, Unspecified> {
        let mut in_out = Vec::with_capacity(SEALED_BYTES);
        in_out.extend_from_slice(&expires.unix_secs().to_be_bytes());
        in_out.extend_from_slice(id.as_bytes());
        let nonce = self
            .sealing_key()?
            .seal_in_place_append_tag(Aad::from(host.as_bytes()), &mut in_out)?;
        let mut sealed = Vec::with_capacity(SEALED_BYTES);
        sealed.extend_from_slice(nonce.as_ref());
        sealed.append(&mut in_out);
        Ok(sealed)
    }

    /// The session id sealed in `sealed`, when it was sealed by this ticket for `host` and has
    /// not expired at `now`.
    pub fn open(&self, sealed: &[u8], host: &str, now: Timestamp) -> Option<SessionId> {
        if sealed.len() != SEALED_BYTES {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .sealing_key()
            .ok()?
            .open_in_place(nonce, Aad::from(host.as_bytes()), &mut in_out)
            .ok()?;
        let (expires, id) = plain.split_first_chunk::<EXPIRY_BYTES>()?;
        let id = <[u8; ID_BYTES]>::try_from(id).ok()?;
        let expires = Timestamp::from_unix_secs(u64::from_be_bytes(*expires));
        (now < expires).then(|| SessionId::from_bytes(id))
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ticket(***)")
    }
}

/// The hash a ticket is filed under; knowing it does not let anyone redeem the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TicketKey([u8; ID_BYTES]);

impl fmt::Display for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A new ticket, ready for a backend to file.
pub(crate) struct Issued {
    /// What the redirect carries: 43 base64url characters.
    pub(crate) text: String,
    /// Where to file it.
    pub(crate) key: TicketKey,
    /// What to file: [`SEALED_BYTES`] bytes.
    pub(crate) sealed: Vec<u8>,
    /// When it stops being redeemable.
    pub(crate) expires: Timestamp,
}

/// Makes a ticket that hands the session `id` to `host` until [`LIFETIME`] after `now`.
pub(crate) fn issue(id: &SessionId, host: &str, now: Timestamp) -> Result<Issued, StoreError> {
    let ticket = Ticket::generate()?;
    let expires = now.plus(LIFETIME);
    let sealed = ticket
        .seal(id, host, expires)
        .map_err(|_| StoreError::Seal)?;
    Ok(Issued {
        text: encode_secret(&ticket.0),
        key: ticket.lookup(),
        sealed,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp::from_unix_secs(1_700_000_000);
    const HOST: &str = "wiki.example.org";

    fn new_ticket() -> (SessionId, Issued) {
        let id = SessionId::generate().unwrap();
        let issued = issue(&id, HOST, T0).unwrap();
        (id, issued)
    }

    #[test]
    fn a_ticket_opens_its_own_value_for_its_host_until_it_expires() {
        let (id, issued) = new_ticket();
        assert_eq!(issued.text.len(), 43);
        assert_eq!(issued.sealed.len(), SEALED_BYTES);
        assert_eq!(issued.expires, T0.plus(LIFETIME));
        let ticket = Ticket::parse(&issued.text).unwrap();
        assert_eq!(ticket.lookup(), issued.key);
        let last_second = T0.plus(LIFETIME - Duration::from_secs(1));
        let opened = ticket.open(&issued.sealed, HOST, last_second).unwrap();
        assert_eq!(opened.key(), id.key());
        assert!(
            ticket
                .open(&issued.sealed, HOST, T0.plus(LIFETIME))
                .is_none()
        );
    }

    #[test]
    fn another_host_or_another_ticket_cannot_open_the_value() {
        let (_, issued) = new_ticket();
        let ticket = Ticket::parse(&issued.text).unwrap();
        for host in [
            "",
            "WIKI.example.org",
            "wiki.example.org.",
            "evil.example.org",
        ] {
            assert!(ticket.open(&issued.sealed, host, T0).is_none(), "{host:?}");
        }
        let (_, other) = new_ticket();
        assert!(ticket.open(&other.sealed, HOST, T0).is_none());
    }

    #[test]
    fn an_altered_value_opens_to_nothing() {
        let (_, issued) = new_ticket();
        let ticket = Ticket::parse(&issued.text).unwrap();
        for at in 0..issued.sealed.len() {
            let mut altered = issued.sealed.clone();
            altered[at] ^= 1;
            assert!(ticket.open(&altered, HOST, T0).is_none(), "byte {at}");
        }
        assert!(ticket.open(&issued.sealed[1..], HOST, T0).is_none());
        assert!(ticket.open(&[], HOST, T0).is_none());
    }

    #[test]
    fn the_lookup_key_and_the_value_reveal_neither_ticket_nor_session_id() {
        let (id, issued) = new_ticket();
        let ticket = Ticket::parse(&issued.text).unwrap();
        let key = issued.key.to_string();
        assert_eq!(key.len(), 64);
        let plain_sha256 = digest::digest(&SHA256, &ticket.0);
        assert_ne!(issued.key.0.as_slice(), plain_sha256.as_ref());
        for secret in [id.as_bytes(), &ticket.0] {
            assert!(
                !issued
                    .sealed
                    .windows(8)
                    .any(|w| secret.windows(8).any(|s| s == w))
            );
        }
        assert!(!format!("{ticket:?}").contains(&issued.text));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_its_own_encoding(text in "\\PC{0,64}") {
            if let Some(ticket) = Ticket::parse(&text) {
                proptest::prop_assert_eq!(encode_secret(&ticket.0), text);
            }
        }
    }
}
