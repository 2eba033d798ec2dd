#!/usr/bin/env bash
# Not a test: the wall time of `node dist/src/main.js credential-process …` against the emulator
# (run by the built CLI in the background), uncached and answered from `--cache`, beside bare node
# start-up (`node -e 0`), `--version` (node start-up plus main.js), `credential-process --help` (plus
# the command's imports) and one RSA-2048 signature, all measured in the same run, interleaved.
#   Run from the project root after a build:  bash bench/credential-process-wall.sh [N]
#   Against an older build too:               BEFORE=/path/to/old/dist/src/main.js bash bench/credential-process-wall.sh 15
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10}"
MAIN=dist/src/main.js
[ -f "$MAIN" ] || { echo "build first: npx tsc -p ." >&2; exit 1; }
dir="$(mktemp -d)"
emu=""
cleanup() { [ -n "$emu" ] && kill "$emu" 2>/dev/null && wait "$emu" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

TA=arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/11111111-1111-4111-8111-111111111111
PR=arn:aws:rolesanywhere:us-east-1:111122223333:profile/22222222-2222-4222-8222-222222222222
RO=arn:aws:iam::111122223333:role/app

# A throwaway RSA-2048 PKI: root → leaf (CA:false, digitalSignature).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/root.key" -out "$dir/root.pem" -days 2 -subj /CN=wall-root \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$dir/leaf.key" -out "$dir/leaf.csr" -subj /CN=wall-leaf 2>/dev/null
printf 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\n' >"$dir/ext"
openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/root.pem" -CAkey "$dir/root.key" -CAcreateserial -days 1 -sha256 \
  -extfile "$dir/ext" -out "$dir/leaf.pem" 2>/dev/null

node "$MAIN" emulator --trust-anchor "$TA=$dir/root.pem" --profile "$PR" --role "$RO" --https-port 0 \
  --write-ca "$dir/ca.pem" >"$dir/emu.out" 2>"$dir/emu.err" &
emu=$!
for _ in $(seq 100); do grep -q '^https ' "$dir/emu.out" 2>/dev/null && break; sleep 0.05; done
url="$(sed -n 's/^https //p' "$dir/emu.out")"
[ -n "$url" ] || { echo "emulator did not start:" >&2; cat "$dir/emu.err" >&2; exit 1; }

ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
cp_args=(--certificate "$dir/leaf.pem" --private-key "$dir/leaf.key" --trust-anchor-arn "$TA" --profile-arn "$PR" --role-arn "$RO" --endpoint "$url" --ca-bundle "$dir/ca.pem")

# Each round runs every command once, in turn, so a busy machine slows them all alike; the medians
# are compared with `node -e 0` (bare node start-up) from the same rounds. BEFORE=path/to/main.js adds
# another build's credential-process, a hit of its cache (its own directory), --help and --version
# (e.g. the previous commit's dist).
# esm-empty: node running an empty ES module, the floor under any ESM entry point such as main.js
# (node starts its ESM loader for it, which `node -e 0` never does).
: >"$dir/empty.mjs"
names=(node-e-0 esm-empty version help call cached)
run_one() {
  case "$1" in
    node-e-0) node -e 0 ;;
    esm-empty) node "$dir/empty.mjs" ;;
    version) node "$MAIN" --version ;;
    help) node "$MAIN" credential-process --help ;;
    call) node "$MAIN" credential-process "${cp_args[@]}" ;;
    cached) node "$MAIN" credential-process "${cp_args[@]}" --cache "$dir/cache" ;;
    before-version) node "$BEFORE" --version ;;
    before-help) node "$BEFORE" credential-process --help ;;
    before-call) node "$BEFORE" credential-process "${cp_args[@]}" ;;
    before-cached) node "$BEFORE" credential-process "${cp_args[@]}" --cache "$dir/cache-before" ;;
  esac
}
[ -n "${BEFORE:-}" ] && names+=(before-version before-help before-call before-cached)
declare -A times
for name in "${names[@]}"; do run_one "$name" >"$dir/out.json"; done # warm the page cache and the cache entry
for _ in $(seq "$N"); do
  for name in "${names[@]}"; do t=$(ms); run_one "$name" >"$dir/out.json"; times[$name]+="$(( $(ms) - t )) "; done
done
grep -q '"AccessKeyId":"ASIA' "$dir/out.json" || [ -n "${BEFORE:-}" ] || { echo "unexpected output: $(head -c 80 "$dir/out.json")" >&2; exit 1; }

sign_us=$(node -e '
  const { createPrivateKey, sign, constants } = require("node:crypto");
  const key = createPrivateKey(require("node:fs").readFileSync(process.argv[1]));
  const data = Buffer.alloc(200, 7);
  for (let i = 0; i < 200; i++) sign("sha256", data, { key, padding: constants.RSA_PKCS1_PADDING });
  const xs = [];
  for (let i = 0; i < 2000; i++) { const t = process.hrtime.bigint(); sign("sha256", data, { key, padding: constants.RSA_PKCS1_PADDING }); xs.push(Number(process.hrtime.bigint() - t) / 1000); }
  xs.sort((a, b) => a - b); console.log(xs[1000].toFixed(0));
' "$dir/leaf.key")

base=$(printf '%s\n' ${times[node-e-0]} | median)
printf '%-16s %8s %7s  %s\n' command median ratio "all (ms)"
for name in "${names[@]}"; do
  m=$(printf '%s\n' ${times[$name]} | median)
  printf '%-16s %6s ms %6.2fx  [%s]\n' "$name" "$m" "$(echo "$m / $base" | bc -l)" "${times[$name]% }"
done
echo "one RSA-2048 signature (crypto.sign, SHA-256): median ${sign_us} µs of 2000"
echo "emulator requests served: $(grep -c ' 201 ' "$dir/emu.err")"
