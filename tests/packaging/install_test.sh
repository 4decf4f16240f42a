#!/usr/bin/env bash
# `cmake --install` into a scratch DESTDIR, then checks the tree an operator gets (F20, issue 22):
# the binary and its links dispatch, every man page renders without a groff warning, the bash
# completion completes subcommands and options, the packaged serve.toml validates, the systemd
# units pass `systemd-analyze verify` (when systemd-analyze works here).
# With HARDENED=ON (cmake/FlowscopeHardening.cmake applied), the binary is PIE with full RELRO,
# a stack protector and fortified calls.
# Usage: install_test.sh BUILD_DIR PREFIX SYSCONF_DIR UNIT_DIR [HARDENED]
set -uo pipefail
build=$1 prefix=$2 sysconf=$3 unitdir=$4 hardened=${5:-OFF}
src=$(cd "$(dirname "$0")/../.." && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

if ! DESTDIR="$root" cmake --install "$build" > "$root.log" 2>&1; then
  cat "$root.log" >&2; rm -f "$root.log"; echo "FAIL: cmake --install" >&2; exit 1
fi
rm -f "$root.log"
bin="$root$prefix/bin"
share="$root$prefix/share"

# --- binary and links ---------------------------------------------------------------------
[[ -x $bin/flowscope ]] || fail "no $bin/flowscope"
version=$("$bin/flowscope" --version 2>&1) && [[ $version == flowscope\ * ]] \
  && pass "flowscope --version: $version" || fail "flowscope --version: $version"
for link in ftsq ftstat ftum; do
  [[ -L $bin/$link && $(readlink "$bin/$link") == flowscope ]] \
    || fail "$link is not a relative link to flowscope"
done
# flowscope-tcpflow is the lean tcpflow drop-in executable (docs/tcpflow.md "Performance").
[[ -x $bin/flowscope-tcpflow && ! -L $bin/flowscope-tcpflow ]] \
  || fail "flowscope-tcpflow is not an executable"
[[ -e $bin/tcpflow ]] && fail "bin/tcpflow installed: it would shadow Debian's tcpflow"
# Dispatch on the name: flowscope-tcpflow is tcpflow's command line (-V prints tcpflow's
# version line), ftsq is FlowTraq's query (its -srv option exists only under that name).
out=$("$bin/flowscope-tcpflow" -V 2>&1); [[ $out == "TCPFLOW 1.6.1" ]] \
  && pass "flowscope-tcpflow -V: $out" || fail "flowscope-tcpflow -V: $out"
out=$("$bin/ftsq" --help 2>&1)
[[ $out == *query* && $out != *"Subcommands:"* ]] && pass "ftsq --help is query's help" \
  || fail "ftsq --help: ${out:0:300}"
[[ -f $share/flowscope/services.tsv ]] || fail "no share/flowscope/services.tsv"
# Hardening (Release default): PIE, full RELRO (GNU_RELRO and BIND_NOW), stack protector,
# _FORTIFY_SOURCE (the *_chk variants of libc calls).
if [[ $hardened == ON ]]; then
  if command -v readelf >/dev/null; then
    elf=$(readelf -lhd --dyn-syms -W "$bin/flowscope" 2>/dev/null)
    [[ $elf == *"Type:"*"DYN"* ]] || fail "flowscope is not PIE"
    [[ $elf == *GNU_RELRO* ]] || fail "flowscope has no RELRO segment"
    [[ $elf == *BIND_NOW* || $elf == *"Flags: NOW"* ]] || fail "flowscope is not bound now (-z now)"
    [[ $elf == *__stack_chk_fail* ]] || fail "flowscope has no stack protector"
    grep -qE '__[a-z]+_chk\b' <<< "$elf" || fail "flowscope calls no fortified (_chk) function"
    pass "hardened: PIE, full RELRO, stack protector, fortify"
  else
    echo "SKIPPED: the hardening checks (no readelf: binutils)"
  fi
fi
out=$("$bin/flowscope" serv -c x 2>&1); rc=$?
[[ $rc == 2 && $out == *"did you mean 'serve'?"* ]] && pass "flowscope serv: $out" \
  || fail "flowscope serv (exit $rc): $out"
out=$("$bin/flowscope" --log-level info xyzzy 2>&1); rc=$?
[[ $rc == 2 && $out == *"the subcommands are: "*serve* ]] || fail "flowscope xyzzy (exit $rc): $out"

# --- man pages ----------------------------------------------------------------------------
man1="$share/man/man1" man5="$share/man/man5"
subcommands=$("$bin/flowscope" --help | awk '/^Subcommands:/{s=1;next} s && /^  [a-z]/{print $1} s && /^$/{exit}')
[[ -n $subcommands ]] || fail "no subcommands in flowscope --help"
for s in $subcommands; do
  [[ -f $man1/flowscope-$s.1 ]] || fail "no man page flowscope-$s.1 for subcommand $s"
done
pages=("$man1"/*.1 "$man5"/*.5)
((${#pages[@]} >= 10)) || fail "only ${#pages[@]} man pages"
for page in "${pages[@]}"; do
  name=$(basename "$page")
  if head -1 "$page" | grep -q '^\.so '; then
    target="$share/man/$(head -1 "$page" | cut -d' ' -f2)"
    [[ -f $target ]] || fail "$name: .so target $target missing"
    continue
  fi
  warnings=$(groff -man -ww -z -Tutf8 "$page" 2>&1)
  [[ -z $warnings ]] || fail "$name: groff: $warnings"
  rendered=$(MANWIDTH=80 man -l "$page" 2>/dev/null)
  [[ -n $rendered ]] || fail "$name: man -l rendered nothing"
  for section in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
    grep -q "^\.SH \"\?$section" "$page" || fail "$name: no $section section"
  done
  dup=$(grep '^\.SH' "$page" | sort | uniq -d)
  [[ -z $dup ]] || fail "$name: repeated sections: $dup"
done
for section in OPTIONS EXAMPLES FILES "EXIT STATUS"; do
  grep -q "^\.SH \"\?$section" "$man1/flowscope.1" || fail "flowscope.1: no $section"
  grep -q "^\.SH \"\?$section" "$man1/flowscope-serve.1" || fail "flowscope-serve.1: no $section"
done
grep -q '^\\fBlisten\\fR (default' "$man5/flowscope-serve.toml.5" || fail "serve.toml(5) lacks the listen key"
pass "${#pages[@]} man pages render"

# --- bash completion ----------------------------------------------------------------------
comp="$share/bash-completion/completions/flowscope"
[[ -f $comp ]] || fail "no bash completion"
complete_words() {  # complete_words WORD... : what TAB offers after them (last word = current)
  bash --norc --noprofile -c '
    source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _flowscope
    printf "%s\n" "${COMPREPLY[@]}"' "$comp" "$@"
}
out=$(complete_words flowscope "")
for w in serve query stat capture completion; do
  grep -qx "$w" <<<"$out" || fail "flowscope <TAB> lacks $w"
done
grep -qx man <<<"$out" && fail "flowscope <TAB> offers the hidden man command"
out=$(complete_words flowscope se)
[[ $out == serve ]] || fail "flowscope se<TAB> gives '$out', not serve"
out=$(complete_words flowscope serve --c)
grep -qx -- --config <<<"$out" && grep -qx -- --check <<<"$out" || fail "serve --c<TAB>: $out"
out=$(complete_words flowscope store retention --)
grep -qx -- --help <<<"$out" || fail "store retention --<TAB>: $out"
(cd "$root" && out=$(complete_words flowscope serve -C "${prefix#/}") && \
  [[ $out == "${prefix#/}"* ]]) || fail "serve -C <TAB> does not complete file names"
pass "bash completion"
[[ -f $share/zsh/vendor-completions/_flowscope ]] || fail "no zsh completion"
if command -v zsh >/dev/null; then
  zsh -n "$share/zsh/vendor-completions/_flowscope" || fail "zsh completion does not parse"
fi

# --- configuration, examples, service files ----------------------------------------------
cfg="$root$sysconf/flowscope/serve.toml"
[[ -f $cfg ]] || fail "no $sysconf/flowscope/serve.toml"
# The licence (Apache-2.0) beside the docs, the same text as the tree's.
cmp -s "$share/doc/flowscope/LICENSE" "$src/LICENSE" || fail "share/doc/flowscope/LICENSE is not LICENSE"
grep -q 'Apache License' "$share/doc/flowscope/LICENSE" || fail "LICENSE is not the Apache License"
[[ -f $share/doc/flowscope/examples/serve.toml ]] || fail "no examples/serve.toml"
[[ -f $share/doc/flowscope/examples/probe.toml ]] || fail "no examples/probe.toml"
# Every key of docs/serve.md is in it, commented, and the file validates as it is (with the
# data directory moved to a scratch one).
for key in netflow_port window geoip_city sync_interval tls_required metrics_public lockout; do
  grep -q "^#$key = " "$cfg" || fail "serve.toml lacks the commented key $key"
done
sed -e "s|\"/var/lib/flowscope\"|\"$root/data\"|" -e "s|\"/var/log/flowscope/|\"$root/|" "$cfg" \
  > "$root/check.toml"
out=$("$bin/flowscope" serve -C "$root/check.toml" --check 2>&1) && pass "serve.toml --check" \
  || fail "packaged serve.toml does not validate: $out"
# Uncommenting every default must validate too (the comments are the defaults).
sed -E 's/^#([a-z_]+ = )/\1/' "$root/check.toml" \
  | grep -v -E '^(start_at|geoip_city|geoip_asn|ip_groups|services|dns_servers|snmp_targets|tls_cert|tls_key|allow_file|users) = ' \
  > "$root/all.toml"
out=$("$bin/flowscope" serve -C "$root/all.toml" --check 2>&1) && pass "every default uncommented" \
  || fail "serve.toml with every default uncommented: $out"

# The installed binary serves with the packaged file (ports 0): /metrics has every family the
# Grafana dashboard uses, and promtool (Debian's prometheus package) accepts it.
sed -E -e 's/^#(netflow_port|ipfix_port|sflow_port|port) = .*/\1 = 0/' \
    -e 's/^#listen = \["0.0.0.0", "::"\]/listen = ["127.0.0.1"]/' "$root/check.toml" > "$root/run.toml"
"$bin/flowscope" serve -C "$root/run.toml" --ready-file "$root/ready.json" 2> "$root/serve.log" &
serve_pid=$!
for _ in $(seq 100); do [[ -s $root/ready.json ]] && break; sleep 0.1; done
if [[ -s $root/ready.json ]]; then
  metrics=$(python3 -c 'import json,sys,urllib.request
port = json.load(open(sys.argv[1]))["http_port"]
print(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode(), end="")' \
    "$root/ready.json") || fail "GET /metrics"
  printf '%s\n' "$metrics" > "$root/metrics.txt"
  dashboard="$share/doc/flowscope/examples/grafana-flowscope.json"
  [[ -f $dashboard ]] || fail "no Grafana dashboard"
  python3 - "$dashboard" "$root/metrics.txt" <<'PY' || fail "the dashboard names metrics the server lacks"
import json, re, sys
dash = json.load(open(sys.argv[1]))
families = set(re.findall(r"^# TYPE (\S+)", open(sys.argv[2]).read(), re.M))
names = set()
for p in dash["panels"]:
    for t in p["targets"]:
        names |= set(re.findall(r"\b((?:flowscope|process)_[a-z_]+)", t["expr"]))
missing = sorted(n for n in names if n not in families and re.sub(r"_(bucket|sum|count)$", "", n) not in families)
if missing:
    print("missing:", missing); sys.exit(1)
print(f"ok: dashboard uses {len(names)} metrics, all exposed")
PY
  for family in flowscope_build_info process_cpu_seconds_total process_resident_memory_bytes \
                process_open_fds process_start_time_seconds; do
    grep -q "^# TYPE $family " "$root/metrics.txt" || fail "/metrics lacks $family"
  done
  if command -v promtool >/dev/null; then
    out=$(promtool check metrics < "$root/metrics.txt" 2>&1) && pass "promtool check metrics" \
      || fail "promtool check metrics: $out"
  else
    echo "skip: promtool not installed (apt-get install prometheus)"
  fi
else
  fail "serve did not start: $(tail -5 "$root/serve.log")"
fi
kill -TERM "$serve_pid" 2>/dev/null
wait "$serve_pid" || fail "serve did not exit 0 on SIGTERM"

units="$root$unitdir"
for u in flowscope.service flowscope-probe@.service; do
  [[ -f $units/$u ]] || { fail "no unit $u"; continue; }
  grep -q "^User=flowscope$" "$units/$u" || fail "$u does not run as flowscope"
  grep -q "^NoNewPrivileges=yes$" "$units/$u" || fail "$u: no NoNewPrivileges"
  grep -q "^ProtectSystem=strict$" "$units/$u" || fail "$u: not ProtectSystem=strict"
  grep -q "ExecStart=$prefix/bin/flowscope " "$units/$u" || fail "$u: ExecStart not $prefix/bin"
done
grep -q '^CapabilityBoundingSet=$' "$units/flowscope.service" || fail "flowscope.service keeps capabilities"
grep -q '^Type=notify$' "$units/flowscope.service" || fail "flowscope.service is not Type=notify"
grep -q '^CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN$' "$units/flowscope-probe@.service" \
  || fail "probe unit capabilities"
if command -v systemd-analyze >/dev/null; then
  # verify resolves ExecStart= on this machine: point the units at the installed binary.
  mkdir -p "$root/verify"
  for u in flowscope.service flowscope-probe@.service; do
    sed "s|$prefix/bin/flowscope|$bin/flowscope|g" "$units/$u" > "$root/verify/$u"
  done
  cp "$root/verify/flowscope-probe@.service" "$root/verify/flowscope-probe@eth0.service"
  out=$(cd "$root/verify" && SYSTEMD_LOG_LEVEL=warning \
        systemd-analyze verify --man=no ./flowscope.service ./flowscope-probe@eth0.service 2>&1)
  if [[ $out == *"Failed to"*"bus"* || $out == *"System has not been booted with systemd"* ]]; then
    echo "skip: systemd-analyze verify needs a running systemd here: $out"
  elif [[ -n $out ]]; then
    fail "systemd-analyze verify: $out"
  else
    pass "systemd-analyze verify"
  fi
fi
grep -q '^u flowscope ' "$root$prefix/lib/sysusers.d/flowscope.conf" || fail "no sysusers.d entry"
grep -q 'systemctl reload flowscope' "$root$sysconf/logrotate.d/flowscope" || fail "no logrotate file"
grep -q '^[[:space:]]*copytruncate' "$root$sysconf/logrotate.d/flowscope" && fail "logrotate uses copytruncate"

if ((failures)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "install tree ok"
