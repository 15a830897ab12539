#!/bin/sh
# Make certificates in the shapes MinKNOW and its users produce, for the
# grpcio interop tests.  Usage: make_certs.sh OUT_DIR
#
# Server shapes (each with its own CA, in OUT_DIR/<shape>/):
#   v1       X.509 v1 CA (CN=MinKNOW) and v1 leaf CN=localhost: MinKNOW's own
#            distributed shape; no extensions anywhere, so no SAN.
#   cn_only  v3 CA without basicConstraints, v3 leaf named only by
#            CN=localhost (no SAN); RSA 4096.
#   san      ordinary CA (basicConstraints CA:true), leaf with SAN localhost.
#   regen    two CAs with the same subject and different keys (ca_old.crt,
#            ca.crt); the leaf is signed by the newer one, as after MinKNOW
#            regenerates its CA.  Bundles of both, in both orders, included.
# Each shape dir holds ca.crt, server.crt and server.key (and the CA keys).
#
# Client material (OUT_DIR/client/):
#   ca.crt + client.crt/.key       client CA and a leaf with EKU clientAuth,
#                                  keyUsage digitalSignature
#   lab_ca.crt + v1_client.crt/.key  a v1 client certificate from a lab CA
#   self_signed.crt/.key           self-signed, CA:true with keyCertSign
#   rogue_ca.crt + rogue.crt/.key  a client certificate nobody trusts
#   trusted.pem                    the bundle the server trusts for clients
set -eu

out=${1:?usage: make_certs.sh OUT_DIR}
mkdir -p "$out/v1" "$out/cn_only" "$out/san" "$out/regen" "$out/client"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A minimal config, so the system's openssl.cnf adds no extensions behind
# our back (that would turn the v1 certificates into v3 ones).
cat >"$work/req.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
EOF

# Every v3 extension set the script uses, one section each.
cat >"$work/ext.cnf" <<'EOF'
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ca_no_bc]
subjectKeyIdentifier = hash
[server_cn_only]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server_san]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[client_self_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, digitalSignature
extendedKeyUsage = clientAuth
EOF

# key FILE BITS
key() {
    openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$1"
}

# csr KEY SUBJECT -> $work/req.csr
csr() {
    openssl req -new -config "$work/req.cnf" -key "$1" -subj "$2" -sha256 -out "$work/req.csr"
}

serial() {
    echo "0x$(openssl rand -hex 8)"
}

# self_signed KEY SUBJECT OUT [EXT_SECTION]: without a section the result
# is X.509 v1 (OpenSSL 3's `x509 -req` adds nothing by itself).
self_signed() {
    csr "$1" "$2"
    k=$1 o=$3 section=${4:-}
    set -- $(ext_args "$section")
    openssl x509 -req -in "$work/req.csr" -signkey "$k" -days 3650 -sha256 \
        -set_serial "$(serial)" -out "$o" "$@" 2>/dev/null
}

# ext_args [SECTION]: the x509 arguments that add SECTION, or none.
ext_args() {
    if [ -n "$1" ]; then
        echo "-extfile $work/ext.cnf -extensions $1"
    fi
}

# issue CA_CRT CA_KEY KEY SUBJECT OUT [EXT_SECTION]: v1 without a section.
issue() {
    csr "$3" "$4"
    ca=$1 cakey=$2 o=$5 section=${6:-}
    set -- $(ext_args "$section")
    openssl x509 -req -in "$work/req.csr" -CA "$ca" -CAkey "$cakey" -days 825 -sha256 \
        -set_serial "$(serial)" -out "$o" "$@" 2>/dev/null
}

# Every key first, in parallel: RSA generation (4096 bits above all) is
# most of the script's run time.
pids=""
for spec in v1/ca:2048 v1/server:2048 cn_only/ca:4096 cn_only/server:4096 \
    san/ca:2048 san/server:2048 regen/ca_old:2048 regen/ca:2048 regen/server:2048 \
    client/ca:2048 client/client:2048 client/lab_ca:2048 client/v1_client:2048 \
    client/self_signed:2048 client/rogue_ca:2048 client/rogue:2048; do
    key "$out/${spec%:*}.key" "${spec#*:}" &
    pids="$pids $!"
done
for pid in $pids; do
    wait "$pid"
done

# v1: MinKNOW's own shape, RSA 2048 throughout.
d="$out/v1"
self_signed "$d/ca.key" "/CN=MinKNOW" "$d/ca.crt"
issue "$d/ca.crt" "$d/ca.key" "$d/server.key" "/CN=localhost" "$d/server.crt"

# cn_only: a CA with no basicConstraints and a leaf named only by its CN.
d="$out/cn_only"
self_signed "$d/ca.key" "/O=Lab Instruments/CN=Sequencer CA" "$d/ca.crt" ca_no_bc
issue "$d/ca.crt" "$d/ca.key" "$d/server.key" "/O=Lab Instruments/CN=localhost" \
    "$d/server.crt" server_cn_only

# san: the shape stock TLS stacks expect; the CN is not the name checked.
d="$out/san"
self_signed "$d/ca.key" "/CN=Interop SAN CA" "$d/ca.crt" ca
issue "$d/ca.crt" "$d/ca.key" "$d/server.key" "/CN=minknow-server" "$d/server.crt" server_san

# regen: same CA subject, new key; the leaf is signed by the new CA.
d="$out/regen"
self_signed "$d/ca_old.key" "/CN=MinKNOW" "$d/ca_old.crt"
self_signed "$d/ca.key" "/CN=MinKNOW" "$d/ca.crt"
issue "$d/ca.crt" "$d/ca.key" "$d/server.key" "/CN=localhost" "$d/server.crt"
cat "$d/ca_old.crt" "$d/ca.crt" >"$d/bundle_old_new.pem"
cat "$d/ca.crt" "$d/ca_old.crt" >"$d/bundle_new_old.pem"

# Client certificates.
d="$out/client"
self_signed "$d/ca.key" "/CN=Interop Client CA" "$d/ca.crt" ca
issue "$d/ca.crt" "$d/ca.key" "$d/client.key" "/CN=interop-client" "$d/client.crt" client
self_signed "$d/lab_ca.key" "/O=Some Lab/CN=Lab CA" "$d/lab_ca.crt" ca
issue "$d/lab_ca.crt" "$d/lab_ca.key" "$d/v1_client.key" "/O=Some Lab/CN=lab-v1-client" \
    "$d/v1_client.crt"
self_signed "$d/self_signed.key" "/CN=self-signed-client" "$d/self_signed.crt" client_self_ca
self_signed "$d/rogue_ca.key" "/CN=Rogue CA" "$d/rogue_ca.crt" ca
issue "$d/rogue_ca.crt" "$d/rogue_ca.key" "$d/rogue.key" "/CN=untrusted-client" \
    "$d/rogue.crt" client
cat "$d/ca.crt" "$d/lab_ca.crt" "$d/self_signed.crt" >"$d/trusted.pem"

# CA keys stay beside their certificates (the tests may sign more); the
# server and client keys are what the processes load.
