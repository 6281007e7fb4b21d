//! The WebAuthn user handle of a person: 16 bytes the authenticator keeps with a discoverable
//! credential and gives back at a passwordless login, so the login host can find the person.
//!
//! The spec asks that it hold no personal data and never change. A person's subject is already
//! such an id when the directory gives UUIDs (LDAP entryUUID, Active Directory objectGUID): then
//! the handle is that UUID. Other subjects (the people file's ids) are hashed into a UUID of
//! version 8, which cannot be mistaken for one of the first kind.

use aws_lc_rs::digest::{SHA256, digest};
use webauthn_rs::prelude::Uuid;

/// A WebAuthn user handle (16 bytes, shown as a UUID).
pub type UserHandle = Uuid;

/// Domain separation for hashed handles, so they are not the bare hash of the subject.
const CONTEXT: &[u8] = b"pforte passkey user handle v1\0";

/// The user handle for the person with subject `subject`.
///
/// To find the person a passwordless answer names: when the directory's subjects are UUIDs,
/// compare `handle` with the subject parsed as one; otherwise compare `user_handle(subject)`
/// with it ([`is_user_handle_of`] does either).
pub fn user_handle(subject: &str) -> Uuid {
    if let Ok(uuid) = Uuid::parse_str(subject) {
        return uuid;
    }
    let hash = digest(&SHA256, &[CONTEXT, subject.as_bytes()].concat());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash.as_ref()[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8: custom
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
    Uuid::from_bytes(bytes)
}

/// Whether `handle` is the user handle of the person with subject `subject`.
pub fn is_user_handle_of(handle: &Uuid, subject: &str) -> bool {
    user_handle(subject) == *handle
}
