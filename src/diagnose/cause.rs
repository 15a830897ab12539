//! The likely causes of a failed connection, each with the fix a user can
//! apply. The codes are stable (programs match on them); the texts follow
//! what MINKNOW-AUTH.md says MinKNOW does.

/// Why a connection failed, as far as the diagnosis can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// The host, port or server name given is not usable.
    InvalidArgument,
    /// No CA file could be found or read.
    NoTrustedCa,
    /// A CA file named by the caller is missing or not a certificate.
    BadCaFile,
    /// The client certificate or its key is unusable (mismatch, encrypted
    /// key, expired, wrong usage, missing file).
    BadClientIdentity,
    /// The host name does not resolve.
    NameResolution,
    /// TCP was refused: nothing listens on that port.
    NothingListening,
    /// TCP or TLS got no answer in time.
    NoAnswer,
    /// TCP failed for another reason (unreachable, reset).
    TcpFailed,
    /// The peer does not speak TLS.
    NotTls,
    /// The peer closed the connection during the TLS handshake.
    TlsClosed,
    /// TLS failed for another reason.
    TlsFailed,
    /// The server's certificate was issued by a CA that is not trusted.
    WrongCa,
    /// A trusted CA has the issuer's name but another key: MinKNOW
    /// regenerated its CA.
    RegeneratedCa,
    /// The server's certificate is outside its validity dates.
    ServerCertificateExpired,
    /// The server's certificate is not valid for the expected name.
    NameMismatch,
    /// The server's certificate was refused for another reason.
    ServerCertificateRejected,
    /// TLS worked but the peer is not a gRPC (HTTP/2) server.
    NotGrpc,
    /// gRPC works but this is not MinKNOW's manager.
    NotManagerPort,
    /// MinKNOW refused the client certificate (its CA is not in
    /// `conf/rpc-client-certs`).
    ClientCertificateNotTrusted,
    /// The server wants a client certificate and none was configured.
    ClientCertificateRequired,
    /// The server closed the connection after the handshake, without a
    /// reason.
    ConnectionClosed,
    /// A client certificate is configured but the port never asks for one
    /// (9502, the web port).
    ClientCertificateNotRequested,
    /// The client certificate was sent and accepted by TLS, but calls are
    /// not authorised by it.
    ClientCertificateNotAuthorised,
    /// Local guest mode is on, but the host is not this machine, so the
    /// local token is not sent.
    LocalTokenNeedsLocalHost,
    /// The local token file could not be read.
    LocalTokenUnreadable,
    /// No token and no client certificate were sent.
    MissingCredentials,
    /// A token was sent and refused.
    TokenRejected,
    /// A call failed for another reason, or timed out.
    CallFailed,
}

impl Cause {
    /// The stable code, as in the JSON report.
    pub fn code(self) -> &'static str {
        use Cause::*;
        match self {
            InvalidArgument => "invalid_argument",
            NoTrustedCa => "no_trusted_ca",
            BadCaFile => "bad_ca_file",
            BadClientIdentity => "bad_client_identity",
            NameResolution => "name_resolution_failed",
            NothingListening => "nothing_listening",
            NoAnswer => "no_answer",
            TcpFailed => "tcp_failed",
            NotTls => "not_tls",
            TlsClosed => "tls_closed",
            TlsFailed => "tls_failed",
            WrongCa => "wrong_ca",
            RegeneratedCa => "regenerated_ca",
            ServerCertificateExpired => "server_certificate_expired",
            NameMismatch => "name_mismatch",
            ServerCertificateRejected => "server_certificate_rejected",
            NotGrpc => "not_grpc",
            NotManagerPort => "not_manager_port",
            ClientCertificateNotTrusted => "client_certificate_not_trusted",
            ClientCertificateRequired => "client_certificate_required",
            ConnectionClosed => "connection_closed",
            ClientCertificateNotRequested => "client_certificate_not_requested",
            ClientCertificateNotAuthorised => "client_certificate_not_authorised",
            LocalTokenNeedsLocalHost => "local_token_needs_local_host",
            LocalTokenUnreadable => "local_token_unreadable",
            MissingCredentials => "missing_credentials",
            TokenRejected => "token_rejected",
            CallFailed => "call_failed",
        }
    }

    /// What to do about it.
    pub fn fix(self) -> &'static str {
        use Cause::*;
        match self {
            InvalidArgument => "check the host, port and server name given",
            NoTrustedCa => {
                "copy MinKNOW's ca.crt from the sequencer (Linux: /data/rpc-certs/minknow/ca.crt \
                 or /var/lib/minknow/data/rpc-certs/minknow/ca.crt) and pass it with --ca or \
                 MINKNOW_TRUSTED_CA"
            }
            BadCaFile => "point --ca (or MINKNOW_TRUSTED_CA) at a readable PEM file holding MinKNOW's ca.crt",
            BadClientIdentity => {
                "fix the client certificate files as the message says: the chain (client \
                 certificate first) and its unencrypted key, valid now, with keyUsage \
                 digitalSignature and extendedKeyUsage clientAuth (or none); \
                 `minknow-auth create-client-certificate` makes a correct pair"
            }
            NameResolution => "check the host name, or use the sequencer's IP address",
            NothingListening => {
                "nothing listens on that port: check that MinKNOW runs on this host, and the \
                 port (9501 for client certificates, 9502 for tokens; before 5.6 only 9502)"
            }
            NoAnswer => {
                "nothing answered in time: check the host and port, firewalls, and that MinKNOW \
                 is running; a port that accepts TCP but never answers TLS is not a MinKNOW port"
            }
            TcpFailed => "check the host, the network between here and it, and the port",
            NotTls => {
                "this port does not speak TLS, so it is not a MinKNOW gRPC port: use the \
                 manager port (9501 or 9502) or a position port the manager lists"
            }
            TlsClosed => {
                "the server closed the connection during the handshake: it may not be MinKNOW, \
                 or MinKNOW may only accept connections from its own host"
            }
            TlsFailed => "the TLS handshake failed; check that this is a MinKNOW port",
            WrongCa => {
                "trust this MinKNOW's own CA: each installation has its own ca.crt (Linux: \
                 /data/rpc-certs/minknow/ca.crt or /var/lib/minknow/data/rpc-certs/minknow/ca.crt); \
                 pass it with --ca or MINKNOW_TRUSTED_CA"
            }
            RegeneratedCa => {
                "MinKNOW regenerated its CA (same name, new key), for example after an upgrade: \
                 copy its current ca.crt again and trust that one"
            }
            ServerCertificateExpired => {
                "MinKNOW's server certificate is outside its validity dates: check this \
                 machine's clock, and restart MinKNOW so it renews its certificates"
            }
            NameMismatch => {
                "MinKNOW's certificates are valid for 'localhost' only; leave the server name \
                 at its default (localhost) whatever host you dial"
            }
            ServerCertificateRejected => "the server certificate was refused; see the message",
            NotGrpc => {
                "this TLS port does not speak gRPC over HTTP/2: use the manager port (9501 or \
                 9502) or a position port the manager lists"
            }
            NotManagerPort => {
                "this gRPC port is not MinKNOW's manager (perhaps a position or the basecaller): \
                 dial the manager (9501 or 9502) and let it give the other ports"
            }
            ClientCertificateNotTrusted => {
                "MinKNOW does not trust this client certificate: copy the CA that issued it (the \
                 certificate itself when self-signed) into MinKNOW's conf/rpc-client-certs \
                 directory and restart MinKNOW; check too that the certificate is not expired"
            }
            ClientCertificateRequired => {
                "this port wants a client certificate: give one (--cert/--key, or \
                 MINKNOW_API_CLIENT_CERTIFICATE_CHAIN and MINKNOW_API_CLIENT_KEY), or use a \
                 token on port 9502"
            }
            ConnectionClosed => {
                "the server closed the connection right after the handshake: MinKNOW may only \
                 accept connections from its own host, or want a client certificate it trusts"
            }
            ClientCertificateNotRequested => {
                "this port never asks for client certificates (MinKNOW's 9502 and web port): \
                 use port 9501, which accepts them, or leave the port at its default"
            }
            ClientCertificateNotAuthorised => {
                "the certificate was accepted for TLS but not for calls: check that its CA is in \
                 MinKNOW's conf/rpc-client-certs and that MinKNOW was restarted since"
            }
            LocalTokenNeedsLocalHost => {
                "MinKNOW offers a local token, which is only for programs on the same machine: \
                 run there, or use a developer token (--token) or a client certificate; \
                 MINKNOW_API_USE_LOCAL_TOKEN=1 forces the local token to another host"
            }
            LocalTokenUnreadable => {
                "the local token file could not be read: run as a user who may read it (see the \
                 message), or use a developer token or a client certificate"
            }
            MissingCredentials => {
                "MinKNOW wants credentials: a client certificate it trusts (port 9501), a \
                 developer token created in the MinKNOW UI (--token), or, on the same machine, \
                 the local token (turn on local guest mode)"
            }
            TokenRejected => {
                "the token was refused: a developer token belongs to one installation and may \
                 have been revoked (make a new one in the MinKNOW UI); a protocol token only \
                 works inside the protocol MinKNOW started"
            }
            CallFailed => "the call failed; see the message",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cause;

    #[test]
    fn codes_are_snake_case_and_distinct() {
        use Cause::*;
        let all = [
            InvalidArgument,
            NoTrustedCa,
            BadCaFile,
            BadClientIdentity,
            NameResolution,
            NothingListening,
            NoAnswer,
            TcpFailed,
            NotTls,
            TlsClosed,
            TlsFailed,
            WrongCa,
            RegeneratedCa,
            ServerCertificateExpired,
            NameMismatch,
            ServerCertificateRejected,
            NotGrpc,
            NotManagerPort,
            ClientCertificateNotTrusted,
            ClientCertificateRequired,
            ConnectionClosed,
            ClientCertificateNotRequested,
            ClientCertificateNotAuthorised,
            LocalTokenNeedsLocalHost,
            LocalTokenUnreadable,
            MissingCredentials,
            TokenRejected,
            CallFailed,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), all.len());
        for cause in all {
            assert!(cause.code().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!(!cause.fix().is_empty());
        }
    }
}
