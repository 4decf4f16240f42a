#!/usr/bin/env bash
# The smoke test of `make deb`: the package's files and control data, then its binary run from a
# scratch root as an unprivileged user with the packaged serve.toml (data and log directories
# moved into the scratch root, ports 0), checked to serve: /healthz, /metrics and a query.
# Without a booted systemd here the unit is not started (systemd-analyze verify checks it).
# Usage: deb-smoke.sh PACKAGE.deb
set -euo pipefail
deb=$1
root=$(mktemp -d /tmp/flowscope-deb.XXXXXX)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$root"; }
trap cleanup EXIT
fail() { echo "deb-smoke: FAIL: $*" >&2; exit 1; }

dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$root/DEBIAN"
for f in usr/bin/flowscope usr/bin/ftsq usr/bin/flowscope-tcpflow etc/flowscope/serve.toml \
         lib/systemd/system/flowscope.service lib/systemd/system/flowscope-probe@.service \
         usr/lib/sysusers.d/flowscope.conf etc/logrotate.d/flowscope \
         usr/share/man/man1/flowscope.1.gz usr/share/man/man5/flowscope-serve.toml.5.gz \
         usr/share/bash-completion/completions/flowscope usr/share/flowscope/services.tsv \
         usr/share/doc/flowscope/examples/serve.toml usr/share/doc/flowscope/copyright; do
  [[ -e $root/$f || -L $root/$f ]] || fail "the package lacks /$f"
done
grep -qx /etc/flowscope/serve.toml "$root/DEBIAN/conffiles" || fail "serve.toml is not a conffile"
grep -q 'adduser --system' "$root/DEBIAN/postinst" || fail "postinst makes no system user"
sh -n "$root/DEBIAN/postinst" && sh -n "$root/DEBIAN/postrm" || fail "maintainer scripts do not parse"
grep -q 'systemctl enable' "$root/DEBIAN/postinst" && fail "the unit is enabled without being asked"
grep -q '^ExecStart=/usr/bin/flowscope serve -C /etc/flowscope/serve.toml$' \
  "$root/lib/systemd/system/flowscope.service" || fail "the unit does not run /usr/bin/flowscope"
echo "deb-smoke: files, conffiles and maintainer scripts ok"

# The package user: the postinst's adduser is not run on this machine; an unused uid/gid
# stands in for `flowscope` (no capabilities, no groups, like the unit's).
uid=$(getent passwd flowscope | cut -d: -f3 || true)
gid=$(getent passwd flowscope | cut -d: -f4 || true)
if [[ -z $uid ]]; then uid=64123 gid=64123; fi
chmod 0755 "$root"
mkdir -p "$root/var/lib/flowscope" "$root/var/log/flowscope"
chown "$uid:$gid" "$root/var/lib/flowscope" "$root/var/log/flowscope"
chmod 0750 "$root/var/lib/flowscope" "$root/var/log/flowscope"
cfg="$root/serve.toml"
sed -e "s|\"/var/lib/flowscope\"|\"$root/var/lib/flowscope\"|" \
    -e "s|\"/var/log/flowscope/|\"$root/var/log/flowscope/|" \
    -e 's|^#netflow_port = .*|netflow_port = 0|' -e 's|^#ipfix_port = .*|ipfix_port = 0|' \
    -e 's|^#sflow_port = .*|sflow_port = 0|' -e 's|^#listen = \["0.0.0.0", "::"\]|listen = ["127.0.0.1"]|' \
    "$root/etc/flowscope/serve.toml" > "$cfg"
# [query] and [http] ports: 0 too (the first `#port =` of each section).
awk '/^\[(query|http)\]/{s=1} s && /^#port = /{print "port = 0"; s=0; next} {print}' "$cfg" > "$cfg.new"
mv "$cfg.new" "$cfg"
chmod 0644 "$cfg"
bin="$root/usr/bin/flowscope"
run_as() { setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all -- "$@"; }
run_as "$bin" serve -C "$cfg" --check || fail "the packaged serve.toml does not validate"
ready="$root/var/lib/flowscope/ready.json"
# Not through run_as: `&` on a function forks a shell, and SIGTERM would reach that shell only.
setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all -- \
  "$bin" serve -C "$cfg" --ready-file "$ready" 2> "$root/serve.log" &
pid=$!
for _ in $(seq 100); do [[ -s $ready ]] && break; sleep 0.1; done
[[ -s $ready ]] || { cat "$root/serve.log" >&2; fail "serve did not become ready as uid $uid"; }
http_port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http_port"])' "$ready")
netflow_port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["netflow_port"])' "$ready")
metrics=$(python3 -c 'import sys,urllib.request
print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode())' \
  "$http_port") || fail "GET /metrics"
[[ $metrics == *flowscope_* ]] || fail "/metrics has no flowscope_ metric"
# Feed it flows and see them counted.
"$bin" gen flows --format v9 --to "127.0.0.1:$netflow_port" --count 200 --seed 1 >/dev/null 2>&1 \
  || fail "gen flows"
sleep 2
metrics=$(python3 -c 'import sys,urllib.request
print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode())' \
  "$http_port")
grep -E '^flowscope_(records|flows)_received_total' <<<"$metrics" | head -3 || true
proc_user=$(ps -o user= -p "$pid" | tr -d ' ')
kill -TERM "$pid"
wait "$pid" || fail "serve did not exit 0 on SIGTERM: $(tail -5 "$root/serve.log")"
pid=
[[ -n $(ls -A "$root/var/lib/flowscope") ]] || fail "nothing written to the state directory"
owner=$(stat -c %u "$root/var/lib/flowscope/$(ls "$root/var/lib/flowscope" | head -1)")
[[ $owner == "$uid" ]] || fail "state written as uid $owner, not $uid"
echo "deb-smoke: serve ran as uid $uid ($proc_user), answered /metrics, stored in the state directory"
echo "deb-smoke: ok"
