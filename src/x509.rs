//! A small, strict DER parser for X.509 certificates.
//!
//! Written here rather than taken from a parser crate because the verifier
//! in [`crate::trust`] must accept certificates that stock Rust parsers
//! refuse (X.509 v1, CN-only names) while staying strict about the
//! encoding itself. Parsing borrows from the input: no copies of the
//! certificate are made, and only the lists (names, extended key usages)
//! allocate.
//!
//! The parser never panics on any input; it is meant to be fuzzed.

use std::fmt;
use std::net::IpAddr;

/// Certificates larger than this are refused before parsing. Real ones are
/// a few kilobytes; the limit only keeps hostile input cheap.
pub const MAX_CERTIFICATE_LEN: usize = 64 * 1024;

// Universal tags used below.
const TAG_BOOLEAN: u8 = 0x01;
const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_UTF8_STRING: u8 = 0x0c;
const TAG_PRINTABLE_STRING: u8 = 0x13;
const TAG_T61_STRING: u8 = 0x14;
const TAG_IA5_STRING: u8 = 0x16;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_BMP_STRING: u8 = 0x1e;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;

// Context-specific tags of TBSCertificate and GeneralName.
const TAG_VERSION: u8 = 0xa0;
const TAG_ISSUER_UID: u8 = 0x81;
const TAG_SUBJECT_UID: u8 = 0x82;
const TAG_EXTENSIONS: u8 = 0xa3;
const TAG_SAN_DNS: u8 = 0x82;
const TAG_SAN_IP: u8 = 0x87;

// Object identifiers, as the content bytes of their DER encoding.
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
const OID_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
const OID_AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
const OID_CERT_POLICIES: &[u8] = &[0x55, 0x1d, 0x20];

/// id-kp-serverAuth (1.3.6.1.5.5.7.3.1).
pub const EKU_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
/// id-kp-clientAuth (1.3.6.1.5.5.7.3.2).
pub const EKU_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
/// anyExtendedKeyUsage (2.5.29.37.0).
pub const EKU_ANY: &[u8] = &[0x55, 0x1d, 0x25, 0x00];

/// Why a certificate could not be parsed. The text names the field, never
/// the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError(&'static str);

impl ParseError {
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ParseError {}

type Parsed<T> = std::result::Result<T, ParseError>;

/// The X.509 version field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
    V3,
}

/// The basicConstraints extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BasicConstraints {
    pub ca: bool,
    pub path_len: Option<u64>,
}

/// The keyUsage bits, numbered as in RFC 5280 (bit 0 = digitalSignature).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyUsage(pub u16);

impl KeyUsage {
    pub(crate) const DIGITAL_SIGNATURE: u16 = 1 << 0;
    pub(crate) const KEY_ENCIPHERMENT: u16 = 1 << 2;
    pub(crate) const KEY_AGREEMENT: u16 = 1 << 4;
    pub(crate) const KEY_CERT_SIGN: u16 = 1 << 5;

    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
}

/// The subjectAltName entries this library uses; others are skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AltName<'a> {
    Dns(&'a str),
    Ip(IpAddr),
}

/// The extensions of a v3 certificate that matter for TLS. Each field is
/// `None` when the extension is absent, which is not the same as present
/// and empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extensions<'a> {
    pub subject_alt_names: Option<Vec<AltName<'a>>>,
    pub basic_constraints: Option<BasicConstraints>,
    pub key_usage: Option<KeyUsage>,
    /// Each purpose as the content bytes of its OID (compare with
    /// [`EKU_SERVER_AUTH`] and friends).
    pub extended_key_usage: Option<Vec<&'a [u8]>>,
    /// OIDs (dotted text) of critical extensions this parser does not
    /// understand. A verifier must refuse a certificate that has any.
    pub unknown_critical: Vec<String>,
}

/// A parsed certificate, borrowing from its DER bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate<'a> {
    /// The whole certificate.
    pub der: &'a [u8],
    /// The tbsCertificate TLV: the bytes the issuer signed.
    pub tbs: &'a [u8],
    /// Contents of the outer signatureAlgorithm AlgorithmIdentifier.
    pub signature_algorithm: &'a [u8],
    /// The signature bits.
    pub signature: &'a [u8],
    pub version: Version,
    /// Contents of the serialNumber INTEGER.
    pub serial: &'a [u8],
    /// The issuer Name TLV, for byte comparison with a subject.
    pub issuer: &'a [u8],
    /// The subject Name TLV.
    pub subject: &'a [u8],
    /// notBefore, in seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter, in seconds since the Unix epoch.
    pub not_after: i64,
    /// The subjectPublicKeyInfo TLV.
    pub spki: &'a [u8],
    /// Contents of the SPKI's AlgorithmIdentifier.
    pub spki_algorithm: &'a [u8],
    /// The subjectPublicKey bits.
    pub public_key: &'a [u8],
    pub extensions: Extensions<'a>,
}

impl<'a> Certificate<'a> {
    /// Parse one DER certificate; `der` must hold nothing else.
    pub fn parse(der: &'a [u8]) -> Parsed<Self> {
        if der.len() > MAX_CERTIFICATE_LEN {
            return Err(ParseError("certificate is too large"));
        }
        let mut outer = Reader::new(der);
        let body = outer.expect(TAG_SEQUENCE, "certificate is not a DER SEQUENCE")?;
        outer.finish("trailing data after the certificate")?;

        let mut r = Reader::new(body);
        let (tbs_body, tbs) = r.expect_tlv(TAG_SEQUENCE, "bad tbsCertificate")?;
        let signature_algorithm = r.expect(TAG_SEQUENCE, "bad signatureAlgorithm")?;
        let signature = bit_string(r.expect(TAG_BIT_STRING, "bad signature")?)?;
        r.finish("trailing data after the signature")?;

        let cert = parse_tbs(tbs_body)?;
        if cert.tbs_signature != signature_algorithm {
            return Err(ParseError(
                "signature algorithms inside and outside tbsCertificate differ",
            ));
        }
        cert.into_certificate(der, tbs, signature_algorithm, signature)
    }

    /// The subject's commonName values, as text.
    pub fn subject_common_names(&self) -> Vec<String> {
        common_names(self.subject)
    }

    /// True when the issuer and subject names are the same bytes (the
    /// certificate claims to be self-issued).
    pub fn is_self_issued(&self) -> bool {
        self.issuer == self.subject
    }

    /// True when the certificate may act as an issuer the way gRPC C-core
    /// allows: a v1 certificate, or one without basicConstraints, or one
    /// with basicConstraints CA:true.
    pub fn may_issue(&self) -> bool {
        self.extensions.basic_constraints.is_none_or(|bc| bc.ca)
    }

    /// The subject in short text form for messages, e.g. `CN=localhost`.
    pub fn subject_text(&self) -> String {
        describe_name(self.subject)
    }

    /// The issuer in short text form for messages.
    pub fn issuer_text(&self) -> String {
        describe_name(self.issuer)
    }
}

/// The pieces of the tbsCertificate, before the outer fields are known.
struct Tbs<'a> {
    version: Version,
    serial: &'a [u8],
    tbs_signature: &'a [u8],
    issuer: &'a [u8],
    subject: &'a [u8],
    not_before: i64,
    not_after: i64,
    spki: &'a [u8],
    spki_algorithm: &'a [u8],
    public_key: &'a [u8],
    extensions: Extensions<'a>,
}

impl<'a> Tbs<'a> {
    fn into_certificate(
        self,
        der: &'a [u8],
        tbs: &'a [u8],
        signature_algorithm: &'a [u8],
        signature: &'a [u8],
    ) -> Parsed<Certificate<'a>> {
        Ok(Certificate {
            der,
            tbs,
            signature_algorithm,
            signature,
            version: self.version,
            serial: self.serial,
            issuer: self.issuer,
            subject: self.subject,
            not_before: self.not_before,
            not_after: self.not_after,
            spki: self.spki,
            spki_algorithm: self.spki_algorithm,
            public_key: self.public_key,
            extensions: self.extensions,
        })
    }
}

fn parse_tbs(body: &[u8]) -> Parsed<Tbs<'_>> {
    let mut r = Reader::new(body);
    let version = parse_version(&mut r)?;
    let serial = r.expect(TAG_INTEGER, "bad serial number")?;
    if serial.is_empty() || serial.len() > 64 {
        return Err(ParseError("bad serial number length"));
    }
    let tbs_signature = r.expect(TAG_SEQUENCE, "bad signature algorithm in tbsCertificate")?;
    let (_, issuer) = r.expect_tlv(TAG_SEQUENCE, "bad issuer name")?;
    check_name(issuer)?;
    let (not_before, not_after) = parse_validity(r.expect(TAG_SEQUENCE, "bad validity")?)?;
    let (_, subject) = r.expect_tlv(TAG_SEQUENCE, "bad subject name")?;
    check_name(subject)?;
    let (spki_body, spki) = r.expect_tlv(TAG_SEQUENCE, "bad subjectPublicKeyInfo")?;
    let (spki_algorithm, public_key) = parse_spki_body(spki_body)?;

    // Unique identifiers only exist from v2 on; they carry nothing we use.
    for tag in [TAG_ISSUER_UID, TAG_SUBJECT_UID] {
        if r.peek_tag() == Some(tag) {
            if version == Version::V1 {
                return Err(ParseError("unique identifier in a v1 certificate"));
            }
            r.read_tlv()?;
        }
    }

    let mut extensions = Extensions::default();
    if r.peek_tag() == Some(TAG_EXTENSIONS) {
        if version != Version::V3 {
            return Err(ParseError("extensions in a certificate older than v3"));
        }
        let wrapper = r.expect(TAG_EXTENSIONS, "bad extensions")?;
        extensions = parse_extensions(wrapper)?;
    }
    r.finish("trailing data in tbsCertificate")?;

    Ok(Tbs {
        version,
        serial,
        tbs_signature,
        issuer,
        subject,
        not_before,
        not_after,
        spki,
        spki_algorithm,
        public_key,
        extensions,
    })
}

fn parse_version(r: &mut Reader<'_>) -> Parsed<Version> {
    if r.peek_tag() != Some(TAG_VERSION) {
        return Ok(Version::V1);
    }
    let wrapper = r.expect(TAG_VERSION, "bad version")?;
    let mut inner = Reader::new(wrapper);
    let value = inner.expect(TAG_INTEGER, "bad version")?;
    inner.finish("bad version")?;
    // An explicit v1 is not DER, but encoders have written it; it is harmless.
    match value {
        [0] => Ok(Version::V1),
        [1] => Ok(Version::V2),
        [2] => Ok(Version::V3),
        _ => Err(ParseError("unknown certificate version")),
    }
}

/// Split an SPKI body into its algorithm contents and its key bits.
fn parse_spki_body(body: &[u8]) -> Parsed<(&[u8], &[u8])> {
    let mut r = Reader::new(body);
    let algorithm = r.expect(TAG_SEQUENCE, "bad public key algorithm")?;
    let key = bit_string(r.expect(TAG_BIT_STRING, "bad public key")?)?;
    r.finish("trailing data in subjectPublicKeyInfo")?;
    Ok((algorithm, key))
}

/// Parse a DER SubjectPublicKeyInfo (as a signing key reports it) into its
/// algorithm contents and key bits.
pub fn parse_spki(der: &[u8]) -> Parsed<(&[u8], &[u8])> {
    let mut r = Reader::new(der);
    let body = r.expect(TAG_SEQUENCE, "bad subjectPublicKeyInfo")?;
    r.finish("trailing data after subjectPublicKeyInfo")?;
    parse_spki_body(body)
}

/// The contents of a BIT STRING whose length is a whole number of bytes.
fn bit_string(contents: &[u8]) -> Parsed<&[u8]> {
    match contents.split_first() {
        Some((0, bits)) => Ok(bits),
        _ => Err(ParseError("bit string with unused bits")),
    }
}

fn parse_validity(body: &[u8]) -> Parsed<(i64, i64)> {
    let mut r = Reader::new(body);
    let not_before = parse_time(&mut r)?;
    let not_after = parse_time(&mut r)?;
    r.finish("trailing data in validity")?;
    Ok((not_before, not_after))
}

fn parse_time(r: &mut Reader<'_>) -> Parsed<i64> {
    let (tag, value, _) = r.read_tlv()?;
    let (year, rest) = match tag {
        TAG_UTC_TIME if value.len() == 13 => {
            // RFC 5280: two-digit years 50-99 are 19xx, 00-49 are 20xx.
            let yy = digits(&value[0..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &value[2..])
        }
        TAG_GENERALIZED_TIME if value.len() == 15 => (digits(&value[0..4])?, &value[4..]),
        TAG_UTC_TIME | TAG_GENERALIZED_TIME => return Err(ParseError("bad time length")),
        _ => return Err(ParseError("bad time type")),
    };
    if rest[10] != b'Z' {
        return Err(ParseError("time is not in UTC (Z)"));
    }
    let month = digits(&rest[0..2])?;
    let day = digits(&rest[2..4])?;
    let hour = digits(&rest[4..6])?;
    let minute = digits(&rest[6..8])?;
    let second = digits(&rest[8..10])?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > crate::calendar::days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(ParseError("time out of range"));
    }
    let days = crate::calendar::days_from_civil(year, month, day);
    Ok(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn digits(text: &[u8]) -> Parsed<i64> {
    let mut value = 0i64;
    for &c in text {
        if !c.is_ascii_digit() {
            return Err(ParseError("bad digit in time"));
        }
        value = value * 10 + i64::from(c - b'0');
    }
    Ok(value)
}

/// Format seconds since the epoch as RFC 3339 UTC, e.g.
/// `2026-01-01T00:00:00Z`, for messages.
pub fn format_time(unix: i64) -> String {
    crate::calendar::format_unix_seconds(unix)
}

// --- Names -----------------------------------------------------------------

/// Check that a Name TLV is a well-formed RDNSequence.
fn check_name(tlv: &[u8]) -> Parsed<()> {
    for attribute in attributes(tlv) {
        attribute?;
    }
    Ok(())
}

/// One AttributeTypeAndValue: the type OID contents, the value's tag and
/// contents.
type Attribute<'a> = (&'a [u8], u8, &'a [u8]);

/// Iterate the attributes of a Name TLV in order, across all RDNs.
fn attributes(tlv: &[u8]) -> impl Iterator<Item = Parsed<Attribute<'_>>> {
    let mut outer = Reader::new(tlv);
    let mut rdns = match outer.expect(TAG_SEQUENCE, "bad name") {
        Ok(body) => Ok(Reader::new(body)),
        Err(e) => Err(e),
    };
    let mut set = Reader::new(&[]);
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let step = next_attribute(&mut rdns, &mut set);
        failed = matches!(step, Some(Err(_)));
        step
    })
}

fn next_attribute<'a>(
    rdns: &mut Parsed<Reader<'a>>,
    set: &mut Reader<'a>,
) -> Option<Parsed<Attribute<'a>>> {
    let rdns = match rdns {
        Ok(r) => r,
        Err(e) => return Some(Err(*e)),
    };
    while set.is_empty() {
        if rdns.is_empty() {
            return None;
        }
        match rdns.expect(TAG_SET, "bad relative distinguished name") {
            Ok(body) if !body.is_empty() => *set = Reader::new(body),
            Ok(_) => return Some(Err(ParseError("empty relative distinguished name"))),
            Err(e) => return Some(Err(e)),
        }
    }
    Some(read_attribute(set))
}

fn read_attribute<'a>(set: &mut Reader<'a>) -> Parsed<Attribute<'a>> {
    let body = set.expect(TAG_SEQUENCE, "bad name attribute")?;
    let mut r = Reader::new(body);
    let oid = r.expect(TAG_OID, "bad name attribute type")?;
    let (tag, value, _) = r.read_tlv()?;
    r.finish("trailing data in name attribute")?;
    Ok((oid, tag, value))
}

/// The commonName values of a Name TLV, as text. Values that are not a
/// string type are skipped.
pub fn common_names(name: &[u8]) -> Vec<String> {
    attributes(name)
        .map_while(|a| a.ok())
        .filter(|(oid, _, _)| *oid == OID_COMMON_NAME)
        .filter_map(|(_, tag, value)| string_value(tag, value))
        .collect()
}

/// Decode a directory string as text. T61String is taken as Latin-1,
/// which is what it holds in practice.
fn string_value(tag: u8, value: &[u8]) -> Option<String> {
    match tag {
        TAG_UTF8_STRING | TAG_PRINTABLE_STRING | TAG_IA5_STRING => {
            std::str::from_utf8(value).ok().map(str::to_owned)
        }
        TAG_T61_STRING => Some(value.iter().map(|&b| char::from(b)).collect()),
        TAG_BMP_STRING if value.len().is_multiple_of(2) => {
            let units = value.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units).collect::<Result<String, _>>().ok()
        }
        _ => None,
    }
}

/// A short text form of a Name for messages, e.g. `CN=MinKNOW, O=Lab`.
/// Unknown attribute types are shown as dotted OIDs; a malformed name is
/// shown as `(malformed name)`.
pub fn describe_name(name: &[u8]) -> String {
    let mut parts = Vec::new();
    for attribute in attributes(name) {
        let Ok((oid, tag, value)) = attribute else {
            return "(malformed name)".to_owned();
        };
        let label = match oid {
            [0x55, 0x04, 0x03] => "CN".to_owned(),
            [0x55, 0x04, 0x06] => "C".to_owned(),
            [0x55, 0x04, 0x07] => "L".to_owned(),
            [0x55, 0x04, 0x08] => "ST".to_owned(),
            [0x55, 0x04, 0x0a] => "O".to_owned(),
            [0x55, 0x04, 0x0b] => "OU".to_owned(),
            _ => oid_text(oid),
        };
        let text = string_value(tag, value).unwrap_or_else(|| "?".to_owned());
        parts.push(format!("{label}={text}"));
    }
    if parts.is_empty() {
        return "(empty name)".to_owned();
    }
    parts.join(", ")
}

/// Dotted-decimal text of OID content bytes; `?` when malformed.
pub fn oid_text(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for &b in oid {
        if value > (u64::MAX >> 7) {
            return "?".to_owned();
        }
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    if arcs.is_empty() || oid.last().is_some_and(|b| b & 0x80 != 0) {
        return "?".to_owned();
    }
    arcs.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

// --- Extensions ------------------------------------------------------------

fn parse_extensions(wrapper: &[u8]) -> Parsed<Extensions<'_>> {
    let mut outer = Reader::new(wrapper);
    let list = outer.expect(TAG_SEQUENCE, "bad extensions")?;
    outer.finish("trailing data after extensions")?;
    if list.is_empty() {
        return Err(ParseError("empty extensions list"));
    }

    let mut ext = Extensions::default();
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut r = Reader::new(list);
    while !r.is_empty() {
        let (oid, critical, value) = read_extension(&mut r)?;
        if seen.contains(&oid) {
            return Err(ParseError("duplicate extension"));
        }
        seen.push(oid);
        apply_extension(&mut ext, oid, critical, value)?;
    }
    Ok(ext)
}

fn read_extension<'a>(r: &mut Reader<'a>) -> Parsed<(&'a [u8], bool, &'a [u8])> {
    let body = r.expect(TAG_SEQUENCE, "bad extension")?;
    let mut e = Reader::new(body);
    let oid = e.expect(TAG_OID, "bad extension id")?;
    let mut critical = false;
    if e.peek_tag() == Some(TAG_BOOLEAN) {
        critical = boolean(e.expect(TAG_BOOLEAN, "bad extension criticality")?)?;
    }
    let value = e.expect(TAG_OCTET_STRING, "bad extension value")?;
    e.finish("trailing data in extension")?;
    Ok((oid, critical, value))
}

fn apply_extension<'a>(
    ext: &mut Extensions<'a>,
    oid: &'a [u8],
    critical: bool,
    value: &'a [u8],
) -> Parsed<()> {
    match oid {
        OID_SUBJECT_ALT_NAME => ext.subject_alt_names = Some(parse_san(value)?),
        OID_BASIC_CONSTRAINTS => ext.basic_constraints = Some(parse_basic_constraints(value)?),
        OID_KEY_USAGE => ext.key_usage = Some(parse_key_usage(value)?),
        OID_EXT_KEY_USAGE => ext.extended_key_usage = Some(parse_eku(value)?),
        // Understood well enough to ignore: they never make a path invalid
        // for our purposes.
        OID_SUBJECT_KEY_ID | OID_AUTHORITY_KEY_ID | OID_CERT_POLICIES => {}
        _ if critical => ext.unknown_critical.push(oid_text(oid)),
        _ => {}
    }
    Ok(())
}

fn boolean(value: &[u8]) -> Parsed<bool> {
    match value {
        [0x00] => Ok(false),
        [0xff] => Ok(true),
        _ => Err(ParseError("bad boolean")),
    }
}

fn parse_san(value: &[u8]) -> Parsed<Vec<AltName<'_>>> {
    let mut outer = Reader::new(value);
    let body = outer.expect(TAG_SEQUENCE, "bad subjectAltName")?;
    outer.finish("trailing data after subjectAltName")?;

    let mut names = Vec::new();
    let mut r = Reader::new(body);
    while !r.is_empty() {
        let (tag, contents, _) = r.read_tlv()?;
        match tag {
            TAG_SAN_DNS => match std::str::from_utf8(contents) {
                Ok(dns) if dns.is_ascii() => names.push(AltName::Dns(dns)),
                _ => return Err(ParseError("dNSName is not ASCII")),
            },
            TAG_SAN_IP => names.push(AltName::Ip(ip_address(contents)?)),
            _ => {}
        }
    }
    Ok(names)
}

fn ip_address(contents: &[u8]) -> Parsed<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(contents) {
        return Ok(IpAddr::from(v4));
    }
    if let Ok(v6) = <[u8; 16]>::try_from(contents) {
        return Ok(IpAddr::from(v6));
    }
    Err(ParseError("iPAddress of bad length"))
}

fn parse_basic_constraints(value: &[u8]) -> Parsed<BasicConstraints> {
    let mut outer = Reader::new(value);
    let body = outer.expect(TAG_SEQUENCE, "bad basicConstraints")?;
    outer.finish("trailing data after basicConstraints")?;

    let mut r = Reader::new(body);
    let mut ca = false;
    if r.peek_tag() == Some(TAG_BOOLEAN) {
        ca = boolean(r.expect(TAG_BOOLEAN, "bad basicConstraints")?)?;
    }
    let mut path_len = None;
    if r.peek_tag() == Some(TAG_INTEGER) {
        path_len = Some(small_unsigned(r.expect(TAG_INTEGER, "bad pathLenConstraint")?)?);
    }
    r.finish("trailing data in basicConstraints")?;
    Ok(BasicConstraints { ca, path_len })
}

fn small_unsigned(contents: &[u8]) -> Parsed<u64> {
    let digits = match contents {
        [0, rest @ ..] if !rest.is_empty() => rest,
        [first, ..] if first & 0x80 != 0 => return Err(ParseError("negative integer")),
        [] => return Err(ParseError("empty integer")),
        all => all,
    };
    if digits.len() > 8 {
        return Err(ParseError("integer too large"));
    }
    Ok(digits.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

fn parse_key_usage(value: &[u8]) -> Parsed<KeyUsage> {
    let mut outer = Reader::new(value);
    let contents = outer.expect(TAG_BIT_STRING, "bad keyUsage")?;
    outer.finish("trailing data after keyUsage")?;

    let Some((&unused, bits)) = contents.split_first() else {
        return Err(ParseError("bad keyUsage"));
    };
    if unused > 7 || bits.len() > 2 || (bits.is_empty() && unused != 0) {
        return Err(ParseError("bad keyUsage"));
    }
    // Bit 0 is the most significant bit of the first byte.
    let mut usage = 0u16;
    for (i, &byte) in bits.iter().enumerate() {
        for j in 0..8 {
            if byte & (0x80 >> j) != 0 {
                usage |= 1 << (i * 8 + j);
            }
        }
    }
    Ok(KeyUsage(usage))
}

fn parse_eku(value: &[u8]) -> Parsed<Vec<&[u8]>> {
    let mut outer = Reader::new(value);
    let body = outer.expect(TAG_SEQUENCE, "bad extendedKeyUsage")?;
    outer.finish("trailing data after extendedKeyUsage")?;

    let mut purposes = Vec::new();
    let mut r = Reader::new(body);
    while !r.is_empty() {
        purposes.push(r.expect(TAG_OID, "bad extendedKeyUsage purpose")?);
    }
    Ok(purposes)
}

// --- DER reader --------------------------------------------------------------

/// A cursor over DER bytes. Only single-byte tags and definite lengths of up
/// to four bytes, minimally encoded, are accepted.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    fn finish(&self, why: &'static str) -> Parsed<()> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(ParseError(why))
        }
    }

    /// Read one TLV: its tag, its contents and the whole TLV.
    fn read_tlv(&mut self) -> Parsed<(u8, &'a [u8], &'a [u8])> {
        let start = self.data;
        let (&tag, rest) = start.split_first().ok_or(ParseError("unexpected end of data"))?;
        if tag & 0x1f == 0x1f {
            return Err(ParseError("multi-byte tags are not supported"));
        }
        let (len, rest) = read_length(rest)?;
        if len > rest.len() {
            return Err(ParseError("length runs past the end of the data"));
        }
        let header = start.len() - rest.len();
        let (contents, remainder) = rest.split_at(len);
        self.data = remainder;
        Ok((tag, contents, &start[..header + len]))
    }

    /// Read a TLV that must have `tag`, returning its contents and whole TLV.
    fn expect_tlv(&mut self, tag: u8, why: &'static str) -> Parsed<(&'a [u8], &'a [u8])> {
        match self.read_tlv() {
            Ok((t, contents, all)) if t == tag => Ok((contents, all)),
            Ok(_) => Err(ParseError(why)),
            Err(e) => Err(e),
        }
    }

    fn expect(&mut self, tag: u8, why: &'static str) -> Parsed<&'a [u8]> {
        self.expect_tlv(tag, why).map(|(contents, _)| contents)
    }
}

fn read_length(data: &[u8]) -> Parsed<(usize, &[u8])> {
    let (&first, rest) = data.split_first().ok_or(ParseError("missing length"))?;
    if first < 0x80 {
        return Ok((usize::from(first), rest));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 {
        return Err(ParseError("indefinite length"));
    }
    if count > 4 || count > rest.len() {
        return Err(ParseError("bad length"));
    }
    let (bytes, rest) = rest.split_at(count);
    if bytes[0] == 0 {
        return Err(ParseError("length is not minimally encoded"));
    }
    let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    if len < 0x80 {
        return Err(ParseError("length is not minimally encoded"));
    }
    Ok((len, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::test_certs::{self, V1Chain};

    #[test]
    fn rcgen_v3_leaf_fields() {
        let ca = test_certs::rcgen_ca("Test CA", Some(true));
        let leaf = test_certs::rcgen_leaf("localhost", &["localhost", "127.0.0.1"], &ca, |p| {
            p.not_before = rcgen::date_time_ymd(2020, 1, 2);
            p.not_after = rcgen::date_time_ymd(2049, 12, 31);
            p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
            p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        });
        let cert = Certificate::parse(&leaf.cert).unwrap();

        assert_eq!(cert.version, Version::V3);
        assert_eq!(cert.subject_common_names(), vec!["localhost".to_owned()]);
        assert_eq!(cert.subject_text(), "CN=localhost");
        assert_eq!(cert.issuer_text(), "CN=Test CA");
        let ca_cert = Certificate::parse(&ca.cert).unwrap();
        assert_eq!(cert.issuer, ca_cert.subject);
        assert!(ca_cert.is_self_issued());
        assert_eq!(cert.not_before, 1_577_923_200);
        assert_eq!(format_time(cert.not_after), "2049-12-31T00:00:00Z");
        assert_eq!(
            cert.extensions.subject_alt_names,
            Some(vec![AltName::Dns("localhost"), AltName::Ip("127.0.0.1".parse().unwrap())])
        );
        assert!(cert.extensions.key_usage.unwrap().has(KeyUsage::DIGITAL_SIGNATURE));
        assert_eq!(cert.extensions.extended_key_usage, Some(vec![EKU_SERVER_AUTH]));
        assert!(cert.extensions.unknown_critical.is_empty());
        assert_eq!(parse_spki(cert.spki).unwrap(), (cert.spki_algorithm, cert.public_key));
        assert_eq!(ca_cert.extensions.basic_constraints.map(|b| b.ca), Some(true));
    }

    #[test]
    fn basic_constraints_variants() {
        let none = test_certs::rcgen_ca("A", None);
        let no = test_certs::rcgen_ca("B", Some(false));
        let none = Certificate::parse(&none.cert).unwrap();
        let no = Certificate::parse(&no.cert).unwrap();
        assert_eq!(none.extensions.basic_constraints, None);
        assert!(none.may_issue());
        assert_eq!(
            no.extensions.basic_constraints,
            Some(BasicConstraints { ca: false, path_len: None })
        );
        assert!(!no.may_issue());
    }

    #[test]
    fn openssl_v1_certificates() {
        test_certs::require_openssl();
        let chain = V1Chain::new("MinKNOW");
        chain.leaf("server", "localhost");
        let ca = chain.der("ca.crt");
        let leaf = chain.der("server.crt");
        let ca = Certificate::parse(&ca).unwrap();
        let leaf = Certificate::parse(&leaf).unwrap();

        assert_eq!(ca.version, Version::V1);
        assert_eq!(leaf.version, Version::V1);
        assert_eq!(leaf.extensions, Extensions::default());
        assert_eq!(leaf.issuer, ca.subject);
        assert_eq!(leaf.subject_common_names(), vec!["localhost".to_owned()]);
        assert_eq!(leaf.serial, &[7]);
        assert!(leaf.not_after - leaf.not_before == 30 * 86_400);
        // rsaEncryption with NULL parameters.
        assert_eq!(ca.spki_algorithm, rustls_pki_types::alg_id::RSA_ENCRYPTION.as_ref());
        assert_eq!(leaf.signature_algorithm, rustls_pki_types::alg_id::RSA_PKCS1_SHA256.as_ref());
    }

    #[test]
    fn times() {
        let parse = |tag: u8, text: &str| {
            let mut der = vec![tag, text.len() as u8];
            der.extend_from_slice(text.as_bytes());
            parse_time(&mut Reader::new(&der))
        };
        assert_eq!(parse(TAG_UTC_TIME, "700101000000Z"), Ok(0));
        assert_eq!(parse(TAG_UTC_TIME, "491231235959Z"), Ok(2_524_607_999));
        assert_eq!(parse(TAG_UTC_TIME, "500101000000Z"), Ok(-631_152_000));
        assert_eq!(parse(TAG_GENERALIZED_TIME, "20260101000000Z"), Ok(1_767_225_600));
        assert_eq!(
            parse(TAG_GENERALIZED_TIME, "20240229120000Z").map(format_time),
            Ok("2024-02-29T12:00:00Z".to_owned())
        );
        assert!(parse(TAG_GENERALIZED_TIME, "20230229120000Z").is_err());
        assert!(parse(TAG_UTC_TIME, "700101000000+0100").is_err());
        assert!(parse(TAG_UTC_TIME, "7001010000000").is_err());
        assert!(parse(TAG_GENERALIZED_TIME, "20260101000000.5Z").is_err());
        assert!(parse(TAG_UTC_TIME, "70010100006AZ").is_err());
        assert!(parse(TAG_UTC_TIME, "701301000000Z").is_err());
        assert_eq!(format_time(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn names_and_oids() {
        // SEQUENCE { SET { SEQ { OID CN, BMPString "hi" } } SET { SEQ { OID O, UTF8 "Lab" } } }
        let name = [
            0x30, 0x1b, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x1e, 0x04, 0x00,
            0x68, 0x00, 0x69, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x01,
            0x4c,
        ];
        assert_eq!(common_names(&name), vec!["hi".to_owned()]);
        assert_eq!(describe_name(&name), "CN=hi, O=L");
        assert_eq!(describe_name(&[0x30, 0x00]), "(empty name)");
        assert_eq!(describe_name(&[0x30, 0x02, 0x31, 0x00]), "(malformed name)");
        assert_eq!(oid_text(EKU_SERVER_AUTH), "1.3.6.1.5.5.7.3.1");
        assert_eq!(oid_text(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]), "1.2.840.113549");
        assert_eq!(oid_text(&[0x86]), "?");
    }

    #[test]
    fn encoding_errors() {
        let ca = test_certs::rcgen_ca("Test CA", Some(true));
        let good = ca.cert.to_vec();
        assert!(Certificate::parse(&good).is_ok());

        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            Certificate::parse(&trailing).unwrap_err().reason(),
            "trailing data after the certificate"
        );

        // Indefinite length at the top.
        let mut indefinite = good.clone();
        indefinite[1] = 0x80;
        assert_eq!(Certificate::parse(&indefinite).unwrap_err().reason(), "indefinite length");

        // Lengths that are too long for the data.
        assert!(Certificate::parse(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(Certificate::parse(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
        // Non-minimal lengths.
        assert!(Certificate::parse(&[0x30, 0x81, 0x01, 0x00]).is_err());
        assert!(Certificate::parse(&[0x30, 0x82, 0x00, 0x81]).is_err());
        assert!(Certificate::parse(&[]).is_err());
        assert!(Certificate::parse(&vec![0u8; MAX_CERTIFICATE_LEN + 1]).is_err());

        // Every truncation and every single-byte corruption fails cleanly
        // or parses; none panics.
        for n in 0..good.len() {
            assert!(Certificate::parse(&good[..n]).is_err());
        }
        for i in 0..good.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] ^= flip;
                let _ = Certificate::parse(&bad);
            }
        }
    }

    #[test]
    fn pseudo_random_bytes_never_panic() {
        // A cheap deterministic fuzz: xorshift bytes, some starting like a
        // certificate.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..20_000 {
            let len = (round % 300) + 1;
            let mut bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            if round % 2 == 0 && len > 2 {
                bytes[0] = 0x30;
                bytes[1] = (len - 2).min(127) as u8;
            }
            let _ = Certificate::parse(&bytes);
            let _ = describe_name(&bytes);
            let _ = common_names(&bytes);
            let _ = parse_spki(&bytes);
        }
    }

    #[test]
    fn key_usage_bits() {
        // digitalSignature + keyCertSign: bits 0 and 5 -> 0b1000_0100, 2 unused.
        assert_eq!(parse_key_usage(&[0x03, 0x02, 0x02, 0x84]), Ok(KeyUsage(0b10_0001)));
        assert!(parse_key_usage(&[0x03, 0x02, 0x08, 0x84]).is_err());
        assert_eq!(small_unsigned(&[0x00, 0x80]), Ok(128));
        assert!(small_unsigned(&[0x80]).is_err());
    }
}
