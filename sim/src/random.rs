//! Random values from the TLS crypto provider's generator (no extra dependency).

fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The system generator failing is not something the simulator can recover from.
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut buf)
        .expect("the system random generator failed");
    buf
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// A token shaped like MinKNOW's (a version 4 UUID), 122 random bits.
pub fn token() -> String {
    let mut b = bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A short random suffix for directory names.
pub fn suffix() -> String {
    hex(&bytes::<6>())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_uuid_shaped_and_differ() {
        let (a, b) = (super::token(), super::token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_eq!(&a[14..15], "4");
    }
}
