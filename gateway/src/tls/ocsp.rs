//! OCSP stapling: the operator's DER OCSP response (fetched by their renewal job, e.g. `openssl
//! ocsp -respout`) is checked to be a successful basic response about the leaf certificate
//! before it is stapled, so a broken or mixed-up file is a load error naming the file rather
//! than a staple that makes strict clients fail. Its signature and validity window are the
//! client's to judge; a reload (the file is watched) puts a fresh response in service.
//!
//! ```text
//! OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT SEQUENCE {
//!   responseType OID (id-pkix-ocsp-basic), response OCTET STRING (BasicOCSPResponse) } }
//! BasicOCSPResponse ::= SEQUENCE { tbsResponseData SEQUENCE { version [0] OPTIONAL,
//!   responderID, producedAt, responses SEQUENCE OF SEQUENCE { certID SEQUENCE { hashAlgorithm,
//!   issuerNameHash, issuerKeyHash, serialNumber }, ... }, ... }, ... }
//! ```

use x509_parser::der_parser::ber::{BerObject, Class};
use x509_parser::der_parser::parse_der;

/// `id-pkix-ocsp-basic`, 1.3.6.1.5.5.7.48.1.1, as DER content bytes.
const OCSP_BASIC: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];

/// Why an OCSP response file cannot be stapled.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OcspError {
    /// The file could not be read.
    #[error("cannot read OCSP response: {0}")]
    Read(String),
    /// The bytes are not a DER OCSP response.
    #[error("not a DER OCSP response ({0})")]
    Malformed(&'static str),
    /// The responder did not answer `successful` (0).
    #[error("the OCSP response's status is {0}, not successful (0)")]
    Unsuccessful(u64),
    /// The response is about other certificates.
    #[error("the OCSP response is not about this certificate (no serial number matches)")]
    OtherCertificate,
}

/// Checks that `der` is a successful basic OCSP response naming the certificate with serial
/// number `serial` (its DER integer content).
pub fn check(der: &[u8], serial: &[u8]) -> Result<(), OcspError> {
    let response = parse(der, "OCSPResponse")?;
    let parts = sequence(&response, "OCSPResponse")?;
    let status = parts
        .first()
        .and_then(|s| s.as_u64().ok())
        .ok_or(OcspError::Malformed("responseStatus"))?;
    if status != 0 {
        return Err(OcspError::Unsuccessful(status));
    }
    let bytes = parts
        .get(1)
        .filter(|o| o.header.class() == Class::ContextSpecific && o.header.tag().0 == 0)
        .and_then(|o| o.as_slice().ok())
        .ok_or(OcspError::Malformed("responseBytes"))?;
    let bytes = parse(bytes, "responseBytes")?;
    let bytes = sequence(&bytes, "responseBytes")?;
    let kind = bytes.first().and_then(|o| o.as_oid().ok());
    if kind.map(|oid| oid.as_bytes()) != Some(OCSP_BASIC) {
        return Err(OcspError::Malformed(
            "responseType is not id-pkix-ocsp-basic",
        ));
    }
    let basic = bytes
        .get(1)
        .and_then(|o| o.as_slice().ok())
        .ok_or(OcspError::Malformed("response"))?;
    let basic = parse(basic, "BasicOCSPResponse")?;
    let tbs = sequence(&basic, "BasicOCSPResponse")?
        .first()
        .ok_or(OcspError::Malformed("tbsResponseData"))?;
    let tbs = sequence(tbs, "tbsResponseData")?;
    // `version [0]` is optional; the responses are the first SEQUENCE after responderID
    // ([1] or [2]) and producedAt.
    let responses = tbs
        .iter()
        .find(|o| o.header.class() == Class::Universal && o.as_sequence().is_ok())
        .ok_or(OcspError::Malformed("responses"))?;
    let wanted = trim(serial);
    for single in sequence(responses, "responses")? {
        let cert_id = sequence(single, "SingleResponse")?
            .first()
            .ok_or(OcspError::Malformed("certID"))?;
        let found = sequence(cert_id, "certID")?
            .get(3)
            .and_then(|o| o.as_slice().ok())
            .ok_or(OcspError::Malformed("serialNumber"))?;
        if trim(found) == wanted {
            return Ok(());
        }
    }
    Err(OcspError::OtherCertificate)
}

fn parse<'a>(der: &'a [u8], what: &'static str) -> Result<BerObject<'a>, OcspError> {
    parse_der(der)
        .map(|(_, object)| object)
        .map_err(|_| OcspError::Malformed(what))
}

fn sequence<'o, 'a>(
    object: &'o BerObject<'a>,
    what: &'static str,
) -> Result<&'o Vec<BerObject<'a>>, OcspError> {
    object.as_sequence().map_err(|_| OcspError::Malformed(what))
}

/// An integer's content without the leading zero bytes DER adds to keep it positive.
fn trim(integer: &[u8]) -> &[u8] {
    let first = integer
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(integer.len());
    &integer[first..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_unsuccessful_responses_are_refused() {
        assert_eq!(
            check(b"not der", &[1]),
            Err(OcspError::Malformed("OCSPResponse"))
        );
        // OCSPResponse { responseStatus tryLater (3) } with no responseBytes.
        assert_eq!(
            check(&[0x30, 0x03, 0x0a, 0x01, 0x03], &[1]),
            Err(OcspError::Unsuccessful(3))
        );
    }
}
