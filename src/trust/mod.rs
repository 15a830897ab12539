//! Trust: the rustls client configuration for MinKNOW.

#[cfg(test)]
pub(crate) mod test_certs;
