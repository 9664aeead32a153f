#!/usr/bin/env bash
# Creates the webhook's serving certificate and CA, stores them as the Secret
# palisade-admit-tls and writes the CA into both webhooks' caBundle.
#
#   deploy/admit/gen-certs.sh [--out DIR] [--days N] [--apply]
#
# Without --apply it only writes DIR/{ca.crt,ca.key,tls.crt,tls.key} and
# DIR/70-validatingwebhookconfiguration.yaml (caBundle filled in) and prints the kubectl
# commands. The certificate's SAN is the service DNS name the API server dials
# (palisade-admit.palisade-admit.svc); the Common Name is not used for verification.
# Rotation: re-run with --apply; the server reloads the mounted files without a restart
# (the kubelet refreshes Secret volumes within about a minute). Run it again before
# --days runs out.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${here}/.certs"
days=365
apply=false
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --apply) apply=true; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
namespace=palisade-admit
service=palisade-admit
command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }
mkdir -p "$out"
chmod 700 "$out"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
  -subj "/CN=palisade-admit-ca" -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
cat > "$out/san.cnf" <<CNF
[req]
distinguished_name = dn
[dn]
[ext]
subjectAltName = DNS:${service}.${namespace}.svc,DNS:${service}.${namespace}.svc.cluster.local
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
basicConstraints = critical,CA:FALSE
CNF
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=${service}.${namespace}.svc" -keyout "$out/tls.key" -out "$out/tls.csr" 2>/dev/null
openssl x509 -req -in "$out/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
  -days "$days" -extfile "$out/san.cnf" -extensions ext -out "$out/tls.crt" 2>/dev/null
rm -f "$out/tls.csr" "$out/san.cnf" "$out/ca.srl"
chmod 600 "$out"/*.key

ca_bundle="$(base64 < "$out/ca.crt" | tr -d '\n')"
sed "s|caBundle: \"\"|caBundle: \"${ca_bundle}\"|" "$here/70-validatingwebhookconfiguration.yaml" \
  > "$out/70-validatingwebhookconfiguration.yaml"

secret_cmd="kubectl -n ${namespace} create secret tls palisade-admit-tls --cert=$out/tls.crt --key=$out/tls.key --dry-run=client -o yaml | kubectl apply -f -"
webhook_cmd="kubectl apply -f $out/70-validatingwebhookconfiguration.yaml"
if $apply; then
  kubectl apply -f "$here/10-namespace.yaml"
  eval "$secret_cmd"
  eval "$webhook_cmd"
else
  echo "wrote $out/{ca.crt,tls.crt,tls.key,70-validatingwebhookconfiguration.yaml}"
  echo "apply with:"
  echo "  $secret_cmd"
  echo "  $webhook_cmd"
fi
