#!/usr/bin/env bash
# Runs the sidecar example (sidecar.yaml) with `podman kube play` against the built-in CreateSession
# emulator, end to end, on this machine:
#
#   packaging/kubernetes/play.sh        # builds the image first when it is missing (packaging/container/build.sh)
#
# 1. makes a test PKI (a CA and a leaf for app.example.internal) with openssl, in the layout the
#    kubelet gives a Secret volume (files behind a ..data symlink);
# 2. starts the emulator as a container of the same image on the host network, trusting that CA
#    for the example's trust anchor, profile and role;
# 3. plays sidecar.yaml, adjusted where podman differs from Kubernetes (printed below, and listed
#    in packaging/README.md): the agent sidecar fills the shared credentials file and a reader
#    container reads it;
# 4. rotates the certificate the way the kubelet does (a new ..data) and checks that the agent
#    signs with the new one at once and the reader sees a new key;
# 5. tears everything down (KEEP=1 keeps it for a look).
#
# Environment: IMAGE (default localhost/rolesanywhere-agent:latest), PODMAN_FLAGS and CONTAINERS_CONF
# as for build.sh (packaging/container/podman.sh), TIMEOUT seconds per wait (default 90).
# Exit 0 when every check passed; one line per step on stderr, never a secret.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
# shellcheck source=../container/podman.sh
. packaging/container/podman.sh

IMAGE="${IMAGE:-localhost/rolesanywhere-agent:latest}"
TIMEOUT="${TIMEOUT:-90}"
NAME="rolesanywhere-play-$$"
say() { printf 'play.sh: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "run it as root: rootful podman, and the test Secret is chowned to the pod's user as the kubelet would"
command -v openssl >/dev/null || fail "openssl is needed for the test PKI (apt-get install openssl)"
if ! pm image exists "$IMAGE"; then
  say "$IMAGE is missing: building it"
  packaging/container/build.sh >/dev/null
fi

work="$(mktemp -d /tmp/rolesanywhere-play.XXXXXX)"
chmod 0755 "$work"
teardown() {
  local status=$?
  if [ "${KEEP:-}" = 1 ]; then say "kept: $work, pod $NAME-pod-0, container $NAME-emulator"; exit $status; fi
  [ -f "$work/play.yaml" ] && pm kube down "$work/play.yaml" >/dev/null 2>&1 || true
  pm rm -f -t 0 "$NAME-emulator" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit $status
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The example's ARNs: the emulator accepts exactly these.
ANCHOR=arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/6f1c3a52-8a7e-4c1d-9a6e-2d4b8f0e1a11
PROFILE=arn:aws:rolesanywhere:eu-west-1:111122223333:profile/0b9d2e47-3c5f-4e8a-b1d2-7f6a5c4e3d22
ROLE=arn:aws:iam::111122223333:role/app
AGENT_UID=1000

# --- 1. the PKI, in a Secret volume's layout ----------------------------------------------------
mkdir -p "$work/pki" "$work/secret" "$work/emulator"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 60 \
  -subj /CN=play-ca -keyout "$work/pki/ca.key" -out "$work/pki/ca.pem" \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
# A leaf with serial $1 under a new ..data directory, swapped in atomically as the kubelet does.
rotate_to() {
  local serial="$1" version="..$(date -u +%Y_%m_%d_%H_%M_%S).$1"
  local dir="$work/secret/$version"
  mkdir -p "$dir"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=app.example.internal \
    -keyout "$dir/tls.key" -out "$work/pki/leaf.csr" 2>/dev/null
  openssl x509 -req -in "$work/pki/leaf.csr" -CA "$work/pki/ca.pem" -CAkey "$work/pki/ca.key" -set_serial "$serial" \
    -days 30 -sha256 -out "$dir/tls.crt" \
    -extfile <(printf 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n') 2>/dev/null
  cp "$work/pki/ca.pem" "$dir/ca.crt"
  cp "$work/emulator/emulator-ca.pem" "$dir/emulator-ca.pem" 2>/dev/null || true
  # As the kubelet with fsGroup and defaultMode 0440: root-owned, group-readable by the pod's group.
  chown -R "0:$AGENT_UID" "$dir" && chmod 0750 "$dir" && chmod 0440 "$dir"/*
  ln -sfn "$version" "$work/secret/..data_tmp"
  mv -T "$work/secret/..data_tmp" "$work/secret/..data"
  for f in tls.crt tls.key ca.crt emulator-ca.pem; do [ -L "$work/secret/$f" ] || ln -s "..data/$f" "$work/secret/$f"; done
}

# --- 2. the emulator ----------------------------------------------------------------------------
cp "$work/pki/ca.pem" "$work/emulator/ca.pem"
chown -R "$AGENT_UID:$AGENT_UID" "$work/emulator"
pm run -d --name "$NAME-emulator" --network host --read-only -v "$work/emulator:/emulator" "$IMAGE" \
  emulator --trust-anchor "$ANCHOR=/emulator/ca.pem" --profile "$PROFILE" --role "$ROLE" \
  --https-port 0 --write-ca /emulator/emulator-ca.pem >/dev/null
url=""
for _ in $(seq "$TIMEOUT"); do
  url="$(pm logs "$NAME-emulator" 2>/dev/null | sed -n 's/^https //p' | head -n1)"
  [ -n "$url" ] && break
  sleep 1
done
[ -n "$url" ] || fail "the emulator did not start: $(pm logs "$NAME-emulator" 2>&1 | tail -n3)"
say "emulator on $url (a container of $IMAGE, host network)"
rotate_to 1001

# --- 3. the example, adjusted for podman --------------------------------------------------------
# Printed so the differences are in the log; packaging/README.md lists them too.
node --input-type=module - "$ROOT/packaging/kubernetes/sidecar.yaml" "$work/play.yaml" "$NAME" "$IMAGE" "$url" "$work/secret" <<'EOF'
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
const [src, out, name, image, url, secretDir] = process.argv.slice(2);
const { parseAllDocuments, stringify } = createRequire(`${process.cwd()}/package.json`)('yaml');
const objects = parseAllDocuments(readFileSync(src, 'utf8')).map((d) => d.toJS()).filter(Boolean);
const changes = [];
const kept = objects.filter((o) => {
  if (o.kind === 'Certificate') changes.push('Certificate dropped: no cert-manager; play.sh writes the Secret volume itself');
  return o.kind !== 'Certificate';
});
const cm = kept.find((o) => o.kind === 'ConfigMap');
const schedule = cm.data['agent.yaml'].replace(/^(\s+)(session_duration: .*)$/m,
  `$1$2\n$1endpoint: ${url}\n$1ca_bundle: /var/run/secrets/rolesanywhere/emulator-ca.pem`);
cm.data['agent.yaml'] = schedule;
changes.push(`ConfigMap: the schedule's endpoint is the emulator (${url}) with its CA in the Secret directory`);
const dep = kept.find((o) => o.kind === 'Deployment');
dep.metadata.name = name;
const pod = dep.spec.template.spec;
pod.hostNetwork = true;
changes.push('pod: hostNetwork, to reach the emulator on the host loopback');
const agent = pod.initContainers.find((c) => c.name === 'rolesanywhere-agent');
delete agent.restartPolicy;
delete agent.startupProbe;
pod.containers = [agent, ...pod.containers];
delete pod.initContainers;
changes.push('agent: under containers, not a native sidecar (podman runs initContainers to completion first; no restartPolicy/startupProbe there)');
agent.image = image;
const app = pod.containers.find((c) => c.name === 'app');
app.image = image;
app.command = ['sh', '-c', 'while :; do sed -n "s/^aws_access_key_id = .*\\(....\\)$/key ending \\1/p" "$AWS_SHARED_CREDENTIALS_FILE" 2>&1 | tail -n1; sleep 1; done'];
changes.push('app: a reader from the agent image printing the last 4 characters of the key id in the shared file (the AWS CLI image is not pullable here)');
for (const c of pod.containers) delete c.resources;
changes.push('resources dropped: memory limits need a cgroup controller podman may not have here');
const secret = pod.volumes.find((v) => v.secret);
delete secret.secret;
secret.hostPath = { path: secretDir, type: 'Directory' };
changes.push('Secret volume: a hostPath with the kubelet layout (..data symlink), so play.sh can rotate the certificate');
writeFileSync(out, kept.map((o) => stringify(o)).join('---\n'));
for (const c of changes) process.stderr.write(`play.sh: podman differs: ${c}\n`);
EOF

pm kube play "$work/play.yaml" >/dev/null
POD="$NAME-pod-0"
say "pod $POD started"

key_seen() { pm logs "$POD-app" 2>/dev/null | sed -n 's/^key ending \(....\)$/\1/p' | tail -n1; }
wait_key() {
  local not="$1" k=""
  for _ in $(seq "$TIMEOUT"); do
    k="$(key_seen)"
    if [ -n "$k" ] && [ "$k" != "$not" ]; then echo "$k"; return 0; fi
    sleep 1
  done
  return 1
}
first="$(wait_key none)" || fail "the reader never saw a profile; agent log: $(pm logs "$POD-rolesanywhere-agent" 2>&1 | tail -n5)"
say "the reader sees profile default (key ending $first)"
grep -q "serial=1001" <(pm logs "$NAME-emulator" 2>&1) || fail "the emulator saw no request signed by certificate 1001"
mode="$(pm exec "$POD-app" stat -c '%a %u' /var/run/aws/credentials)"
[ "$mode" = "600 $AGENT_UID" ] || fail "the credentials file is '$mode', expected '600 $AGENT_UID'"
say "credentials file mode 0600, owner $AGENT_UID, readable by the app (same UID)"

# --- 4. rotation --------------------------------------------------------------------------------
rotate_to 1002
say "rotated the certificate (serial 1002) by swapping ..data"
second="$(wait_key "$first")" || fail "the reader still sees key ending $first after the rotation; agent log: $(pm logs "$POD-rolesanywhere-agent" 2>&1 | tail -n5)"
grep -q "serial=1002" <(pm logs "$NAME-emulator" 2>&1) || fail "the profile changed but the emulator saw no request signed by certificate 1002"
say "after the rotation the agent signed with certificate 1002 and the reader sees a new key (ending $second)"
say "OK"
