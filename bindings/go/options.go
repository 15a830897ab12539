package minknow

// #include <stdlib.h>
// #include "minknow_auth.h"
import "C"

import (
	"time"
	"unsafe"
)

// DefaultPort as Options.Port picks MinKNOW's manager port: 9501 when a
// client certificate is configured (explicitly or through the
// environment), else 9502. A zero Port means the same.
const DefaultPort = C.MINKNOW_PORT_DEFAULT

// LocalTokenMode says when the local token is used.
type LocalTokenMode int32

const (
	// LocalTokenAuto is the reference client's rule: MINKNOW_API_USE_LOCAL_TOKEN
	// if set (and the environment is used), else only when the host is this
	// machine.
	LocalTokenAuto LocalTokenMode = C.MINKNOW_LOCAL_TOKEN_MODE_AUTO
	// LocalTokenOn always tries the local token, even for a remote host.
	LocalTokenOn LocalTokenMode = C.MINKNOW_LOCAL_TOKEN_MODE_ON
	// LocalTokenOff never uses the local token.
	LocalTokenOff LocalTokenMode = C.MINKNOW_LOCAL_TOKEN_MODE_OFF
)

// Options says where MinKNOW is and who the caller is. The zero value
// connects to localhost on the default port with the library's defaults:
// CAs from MINKNOW_TRUSTED_CA or MinKNOW's install locations, a client
// certificate and tokens from the environment, the local token when the
// host is this machine. Files are read when Connect runs, not before.
type Options struct {
	// Host is a name, an IPv4 address or an IPv6 address (brackets
	// optional). Empty means "localhost".
	Host string
	// Port is the manager's port; 0 or DefaultPort picks 9501 or 9502.
	Port int

	// CAFiles and CAPEM are trusted CA certificates (PEM files, PEM bytes);
	// all of them are trusted at once. When any is given, the environment
	// and default locations are not consulted.
	CAFiles []string
	CAPEM   [][]byte

	// A client certificate chain (client certificate first) and its
	// unencrypted key, either as PEM files or as PEM bytes; give both of a
	// pair. Checked before any network I/O.
	ClientCertificateFile string
	ClientKeyFile         string
	ClientCertificatePEM  []byte
	ClientKeyPEM          []byte

	// DeveloperToken is sent as local-auth on every call, to the manager and
	// every child channel; it takes precedence over the other tokens.
	DeveloperToken string
	// ProtocolToken is sent as protocol-auth instead of PROTOCOL_TOKEN.
	ProtocolToken string
	// LocalToken says when the local token is used.
	LocalToken LocalTokenMode

	// ServerName is the name the server's certificate is checked against;
	// empty means "localhost", the only name MinKNOW's certificates hold.
	ServerName string
	// IgnoreEnvironment stops MINKNOW_TRUSTED_CA,
	// MINKNOW_API_CLIENT_CERTIFICATE_CHAIN, MINKNOW_API_CLIENT_KEY,
	// MINKNOW_API_USE_LOCAL_TOKEN and PROTOCOL_TOKEN from filling in what
	// the options do not say. (The zero value uses them, as the library
	// does by default.)
	IgnoreEnvironment bool
	// ConnectTimeout bounds connecting (TCP, TLS, HTTP/2, the first call
	// and its retries) and each later reconnection's dial; 0 means the
	// library's 10 s. At most 600 s. A sooner ctx deadline shortens it.
	ConnectTimeout time.Duration
}

// clone copies o deeply enough that the caller may change its slices
// afterwards.
func (o Options) clone() Options {
	o.CAFiles = append([]string(nil), o.CAFiles...)
	pems := make([][]byte, len(o.CAPEM))
	for i, pem := range o.CAPEM {
		pems[i] = append([]byte(nil), pem...)
	}
	o.CAPEM = pems
	o.ClientCertificatePEM = append([]byte(nil), o.ClientCertificatePEM...)
	o.ClientKeyPEM = append([]byte(nil), o.ClientKeyPEM...)
	return o
}

// cOptions builds the C options object; the caller frees it with
// minknow_options_free.
func (o *Options) cOptions(connectTimeout time.Duration) (*C.minknow_options, error) {
	var opts *C.minknow_options
	var cerr *C.minknow_error
	if st := C.minknow_options_new(&opts, &cerr); st != C.MINKNOW_STATUS_OK {
		return nil, takeError(st, cerr)
	}

	if err := o.fill(opts, connectTimeout); err != nil {
		C.minknow_options_free(opts)
		return nil, err
	}
	return opts, nil
}

// fill applies every option that is set, stopping at the first the
// library refuses.
func (o *Options) fill(opts *C.minknow_options, connectTimeout time.Duration) error {
	var cerr *C.minknow_error
	check := func(st C.minknow_status) error {
		if st != C.MINKNOW_STATUS_OK {
			return takeError(st, cerr)
		}
		return nil
	}
	withString := func(s string, set func(*C.char) C.minknow_status) error {
		cs := C.CString(s)
		defer C.free(unsafe.Pointer(cs))
		return check(set(cs))
	}

	for _, path := range o.CAFiles {
		err := withString(path, func(p *C.char) C.minknow_status {
			return C.minknow_options_add_ca_file(opts, p, &cerr)
		})
		if err != nil {
			return err
		}
	}
	for _, pem := range o.CAPEM {
		data, n := bytesArg(pem)
		if err := check(C.minknow_options_add_ca_pem(opts, data, n, &cerr)); err != nil {
			return err
		}
	}
	if err := o.fillIdentity(opts); err != nil {
		return err
	}
	if o.DeveloperToken != "" {
		err := withString(o.DeveloperToken, func(t *C.char) C.minknow_status {
			return C.minknow_options_set_developer_token(opts, t, &cerr)
		})
		if err != nil {
			return err
		}
	}
	if o.ProtocolToken != "" {
		err := withString(o.ProtocolToken, func(t *C.char) C.minknow_status {
			return C.minknow_options_set_protocol_token(opts, t, &cerr)
		})
		if err != nil {
			return err
		}
	}
	if o.LocalToken != LocalTokenAuto {
		st := C.minknow_options_set_local_token_mode(opts, C.int32_t(o.LocalToken), &cerr)
		if err := check(st); err != nil {
			return err
		}
	}
	if o.ServerName != "" {
		err := withString(o.ServerName, func(n *C.char) C.minknow_status {
			return C.minknow_options_set_server_name(opts, n, &cerr)
		})
		if err != nil {
			return err
		}
	}
	if o.IgnoreEnvironment {
		if err := check(C.minknow_options_set_use_environment(opts, false, &cerr)); err != nil {
			return err
		}
	}
	if connectTimeout > 0 {
		ms := C.uint32_t(min(durationMillis(connectTimeout), maxConnectTimeoutMillis+1))
		if err := check(C.minknow_options_set_connect_timeout_ms(opts, ms, &cerr)); err != nil {
			return err
		}
	}
	return nil
}

// fillIdentity sets the client certificate, from files or PEM bytes. A
// half-given pair goes to the library as it is, which names what is
// missing.
func (o *Options) fillIdentity(opts *C.minknow_options) error {
	var cerr *C.minknow_error
	files := o.ClientCertificateFile != "" || o.ClientKeyFile != ""
	pems := len(o.ClientCertificatePEM) > 0 || len(o.ClientKeyPEM) > 0
	if files && pems {
		return errorf(StatusInvalidArgument, grpcCodeFor(StatusInvalidArgument),
			"Options: give the client certificate as files or as PEM bytes, not both")
	}

	if files {
		chain := C.CString(o.ClientCertificateFile)
		defer C.free(unsafe.Pointer(chain))
		key := C.CString(o.ClientKeyFile)
		defer C.free(unsafe.Pointer(key))
		st := C.minknow_options_set_client_certificate_files(opts, chain, key, &cerr)
		if st != C.MINKNOW_STATUS_OK {
			return takeError(st, cerr)
		}
	}
	if pems {
		chain, chainLen := bytesArg(o.ClientCertificatePEM)
		key, keyLen := bytesArg(o.ClientKeyPEM)
		st := C.minknow_options_set_client_certificate_pem(opts, chain, chainLen, key, keyLen, &cerr)
		if st != C.MINKNOW_STATUS_OK {
			return takeError(st, cerr)
		}
	}
	return nil
}

// maxConnectTimeoutMillis is the library's upper bound (600 s); one more
// is passed on so that the library itself reports the option as invalid.
const maxConnectTimeoutMillis = 600_000

// bytesArg passes b to C for the duration of one call (cgo pins it); C
// copies what it keeps. An empty slice is NULL with length 0.
func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b))
}

// durationMillis rounds d up to whole milliseconds, at least 1.
func durationMillis(d time.Duration) int64 {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return max(int64(ms), 1)
}
