#!/usr/bin/env bash
# Attacks a Cordon sandbox pod on a REAL cluster from inside and fails if any attack works.
# CI cannot run this: there is no Kubernetes cluster on Cordon's CI machines (FACTS.md). Run it
# against your own cluster before trusting it with agents:
#
#   deploy/kubernetes/escape-suite.sh RUNTIME_CLASS DAEMON_IP:PROXY_PORT [IMAGE]
#   e.g. deploy/kubernetes/escape-suite.sh gvisor 10.0.0.5:3128 debian:12-slim
#
# Needs kubectl pointing at the cluster, the namespace cordon-sandboxes (namespaces.yaml), a CNI
# that enforces NetworkPolicy, and an image with bash, coreutils and grep. The pod it creates has
# exactly the walls Cordon's pods have (escape/pod.yaml, kept equal to PodSpecs.java by a test).
set -euo pipefail
runtime=${1:?usage: $0 RUNTIME_CLASS DAEMON_IP:PROXY_PORT [IMAGE]}
proxy=${2:?usage: $0 RUNTIME_CLASS DAEMON_IP:PROXY_PORT [IMAGE]}
image=${3:-debian:12-slim}
ns=cordon-sandboxes
here=$(cd "$(dirname "$0")" && pwd)
cleanup() { kubectl -n "$ns" delete pod/cordon-escape networkpolicy/cordon-escape --ignore-not-found --wait=false >/dev/null; }
trap cleanup EXIT

sed -e "s|DAEMON_IP|${proxy%:*}|" "$here/escape/networkpolicy.yaml" | kubectl apply -f -
if [ "$runtime" = default ]; then
  sed -e '/runtimeClassName/d' -e "s|IMAGE|$image|" "$here/escape/pod.yaml" | kubectl apply -f -
else
  sed -e "s|RUNTIME_CLASS|$runtime|" -e "s|IMAGE|$image|" "$here/escape/pod.yaml" | kubectl apply -f -
fi
kubectl -n "$ns" wait --for=condition=Ready pod/cordon-escape --timeout=180s

failed=0
inside() { kubectl -n "$ns" exec cordon-escape -- bash -c "$1"; }
# expect NAME COMMAND: the attack must FAIL (non-zero exit) for the wall to hold.
expect_blocked() {
  if inside "$2" >/dev/null 2>&1; then echo "ESCAPE  $1"; failed=1; else echo "held    $1"; fi
}
expect_true() {
  if inside "$2" >/dev/null 2>&1; then echo "held    $1"; else echo "ESCAPE  $1"; failed=1; fi
}

expect_blocked "service-account token readable" 'cat /var/run/secrets/kubernetes.io/serviceaccount/token'
expect_blocked "write to the root filesystem" 'echo x > /usr/cordon-escape'
expect_blocked "become root" 'test "$(id -u)" = 0'
expect_true    "no capabilities" 'grep -q "^CapEff:\s*0000000000000000" /proc/self/status'
expect_true    "no_new_privs set" 'grep -q "^NoNewPrivs:\s*1" /proc/self/status'
expect_blocked "reach the API server" 'timeout 5 bash -c "</dev/tcp/${KUBERNETES_SERVICE_HOST:-10.96.0.1}/443"'
expect_blocked "reach kubernetes.default by name" 'timeout 5 bash -c "</dev/tcp/kubernetes.default.svc/443"'
expect_blocked "reach cloud metadata" 'timeout 5 bash -c "</dev/tcp/169.254.169.254/80"'
expect_blocked "reach the internet" 'timeout 5 bash -c "</dev/tcp/1.1.1.1/443"'
expect_blocked "cluster DNS" 'timeout 5 getent hosts kubernetes.default.svc.cluster.local'
expect_blocked "service links in the environment" 'env | grep _SERVICE_HOST= | grep -qv "^KUBERNETES_SERVICE_HOST="'
# Egress goes through the runner's relay over the channel the daemon opened; never straight out.
expect_blocked "reach the daemon's egress proxy directly" "timeout 5 bash -c '</dev/tcp/${proxy%:*}/${proxy#*:}'"
if [ "$runtime" != default ]; then
  # Under gVisor dmesg is the sentry's; under Kata the kernel is the guest's, not the node's.
  echo "kernel inside: $(inside 'uname -r') (node: $(kubectl get node "$(kubectl -n "$ns" get pod cordon-escape -o jsonpath='{.spec.nodeName}')" -o jsonpath='{.status.nodeInfo.kernelVersion}'))"
fi
if [ "$failed" = 0 ]; then echo "every wall held"; else echo "AN ATTACK WORKED: do not run agents on this cluster"; exit 1; fi
