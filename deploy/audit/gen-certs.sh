#!/usr/bin/env bash
# Creates the audit webhook's CA, serving certificate and the API server's client
# certificate, stores the serving pair and the CA as the Secret palisade-audit-tls (the
# server requires client certificates from that CA), and writes the API server's
# audit-webhook kubeconfig with the CA and client certificate embedded and the Service's
# ClusterIP filled in.
#
#   deploy/audit/gen-certs.sh [--out DIR] [--days N] [--cluster-ip IP] [--apply]
#
# Without --apply it only writes DIR/{ca.crt,ca.key,tls.crt,tls.key,client.crt,client.key,
# audit-webhook-kubeconfig.yaml}
# and prints the kubectl command. --cluster-ip defaults to the Service's ClusterIP when
# kubectl can read it (apply the kustomization first). Copy the kubeconfig to every
# control-plane node (see apiserver/audit-webhook-kubeconfig.yaml for the flags).
# Rotation: re-run with the same --out and --apply before --days runs out: the CA in DIR is
# kept (the API server's kubeconfig trusts it and the server trusts its client
# certificates), new serving and client certificates are signed; the server reloads the
# mounted files without a restart (the kubelet refreshes Secret volumes within about a
# minute); copy the new kubeconfig to the control-plane nodes before the old client
# certificate expires.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${here}/.certs"
days=365
apply=false
cluster_ip=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --cluster-ip) cluster_ip="$2"; shift 2 ;;
    --apply) apply=true; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
namespace=palisade-audit
service=palisade-audit
command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }
if [ -z "$cluster_ip" ] && command -v kubectl >/dev/null; then
  cluster_ip="$(kubectl -n "$namespace" get svc "$service" -o jsonpath='{.spec.clusterIP}' 2>/dev/null || true)"
fi
mkdir -p "$out"
chmod 700 "$out"

# The CA is kept when it exists: the API server's kubeconfig trusts it, so a renewed
# serving certificate is accepted without touching the control-plane nodes.
if [ ! -f "$out/ca.key" ] || [ ! -f "$out/ca.crt" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=palisade-audit-ca" -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
fi
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
cat > "$out/client.cnf" <<CNF
[req]
distinguished_name = dn
[dn]
[ext]
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
basicConstraints = critical,CA:FALSE
CNF
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=kube-apiserver-audit-webhook" -keyout "$out/client.key" -out "$out/client.csr" 2>/dev/null
openssl x509 -req -in "$out/client.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
  -days "$days" -extfile "$out/client.cnf" -extensions ext -out "$out/client.crt" 2>/dev/null
rm -f "$out/tls.csr" "$out/client.csr" "$out/san.cnf" "$out/client.cnf" "$out/ca.srl"
chmod 600 "$out"/*.key

b64() { base64 < "$1" | tr -d '\n'; }
sed -e "s|CLUSTER-IP|${cluster_ip:-CLUSTER-IP}|" \
    -e "s|certificate-authority: .*|certificate-authority-data: $(b64 "$out/ca.crt")|" \
    -e "s|client-certificate: .*|client-certificate-data: $(b64 "$out/client.crt")|" \
    -e "s|client-key: .*|client-key-data: $(b64 "$out/client.key")|" \
  "$here/apiserver/audit-webhook-kubeconfig.yaml" > "$out/audit-webhook-kubeconfig.yaml"
chmod 600 "$out/audit-webhook-kubeconfig.yaml"

secret_cmd="kubectl -n ${namespace} create secret generic palisade-audit-tls --from-file=tls.crt=$out/tls.crt --from-file=tls.key=$out/tls.key --from-file=ca.crt=$out/ca.crt --dry-run=client -o yaml | kubectl apply -f -"
if $apply; then
  kubectl apply -f "$here/10-namespace.yaml"
  eval "$secret_cmd"
else
  echo "apply with:"
  echo "  $secret_cmd"
fi
echo "wrote $out/{ca.crt,tls.crt,tls.key,client.crt,client.key,audit-webhook-kubeconfig.yaml}"
[ -n "$cluster_ip" ] || echo "warning: no ClusterIP known; replace CLUSTER-IP in $out/audit-webhook-kubeconfig.yaml" >&2
