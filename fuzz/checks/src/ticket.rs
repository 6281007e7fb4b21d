//! SSO hand-over tickets (`pforte_session::Ticket`): the text a redirect carries and the sealed
//! value a store files under it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pforte_session::{SessionId, Ticket, Timestamp};

/// The moment the checks run at.
const NOW: Timestamp = Timestamp::from_unix_secs(1_800_000_000);

/// Any text as a ticket from a redirect, and any bytes as a value read from the store: a ticket
/// parses only in its one canonical spelling, and a value opens only when it was sealed by that
/// ticket for that host and has not expired. With the input's first 64 bytes as a ticket and a
/// session id and the rest as the host: `open(seal(id)) == id` for that host before expiry, and
/// nothing for another host, at expiry or with any one byte of the value changed.
pub fn ticket(data: &[u8]) {
    let fixed = Ticket::parse(&"A".repeat(43)).expect("43 base64url characters are a ticket");
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(parsed) = Ticket::parse(text)
    {
        assert_eq!(text.len(), 43, "a ticket is 43 characters");
        assert!(parsed.open(data, "wiki.example.org", NOW).is_none());
    }
    assert!(
        fixed.open(data, "wiki.example.org", NOW).is_none(),
        "a value nobody sealed opened"
    );

    let (Some(ticket_bytes), Some(id_bytes)) = (data.get(..32), data.get(32..64)) else {
        return;
    };
    let host = String::from_utf8_lossy(&data[64..]);
    let ticket =
        Ticket::parse(&URL_SAFE_NO_PAD.encode(ticket_bytes)).expect("32 bytes make a ticket");
    let id = SessionId::parse(&URL_SAFE_NO_PAD.encode(id_bytes)).expect("32 bytes make an id");
    let expires = NOW.plus(std::time::Duration::from_secs(60));
    let sealed = ticket
        .seal(&id, &host, expires)
        .expect("sealing 40 bytes cannot fail");
    let opened = ticket
        .open(&sealed, &host, NOW)
        .expect("a value opens for its ticket and host before expiry");
    assert_eq!(opened.to_cookie_value(), id.to_cookie_value());
    assert!(ticket.open(&sealed, &format!("{host}."), NOW).is_none());
    assert!(ticket.open(&sealed, &host, expires).is_none());
    assert!(fixed.open(&sealed, &host, NOW).is_none() || ticket_bytes == [0; 32]);
    let mut altered = sealed.clone();
    let at = usize::from(data[0]) % altered.len();
    altered[at] ^= 1 << (data[1] % 8);
    assert!(
        ticket.open(&altered, &host, NOW).is_none(),
        "a changed value opened"
    );
}
