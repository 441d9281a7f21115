#!/usr/bin/env bash
# Regenerates the test-only certificate authority and the loopback server certificate that the fake
# identity provider and the fake Graph server present. The keys here protect nothing: they exist so the
# real MSAL and Graph clients can talk HTTPS to servers on 127.0.0.1 (MSAL refuses http authorities).
# vitest.config.ts points NODE_EXTRA_CA_CERTS at ca.crt before any test worker starts.
set -euo pipefail
cd "$(dirname "$0")"
openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj "/CN=Teams Service Desk test CA" \
  -keyout ca.key -out ca.crt -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 36500 -extfile server.ext -out server.crt
rm -f server.csr server.ext ca.srl
