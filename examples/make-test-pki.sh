#!/bin/sh
# Makes a throwaway test PKI in examples/pki/ (root CA, intermediate CA, profile signer) for trying
# signing with examples/signed/fleet.yaml. TEST ONLY: never deploy these keys; examples/pki/ is not committed.
set -eu
cd "$(dirname "$0")"
mkdir -p pki
cd pki
cat > ext.cnf <<'CNF'
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
[signer]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
CNF
openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 3650 \
  -subj "/O=Example Corp/CN=Example Corp Test Root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout intermediate.key -out intermediate.csr \
  -subj "/O=Example Corp/CN=Example Corp Test Intermediate CA" 2>/dev/null
openssl x509 -req -in intermediate.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 \
  -extfile ext.cnf -extensions ca -out intermediate.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout signer.key -out signer.csr \
  -subj "/O=Example Corp/CN=Example Corp Profile Signer" 2>/dev/null
openssl x509 -req -in signer.csr -CA intermediate.pem -CAkey intermediate.key -CAcreateserial -days 365 \
  -extfile ext.cnf -extensions signer -out signer.pem 2>/dev/null
rm -f ./*.csr ./*.srl ext.cnf
chmod 600 ./*.key
echo "Test PKI written to examples/pki/ (root.pem, intermediate.pem, signer.pem, signer.key)"
