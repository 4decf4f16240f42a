#!/usr/bin/env bash
# F17 questions (issue 16's table): each one answered by nfdump over an nfcapd file and by
# flowscope over the same records imported into a store, without rollups and with rollup views
# (cln_addr; srv_addr; cln_addr,srv_addr; srv_port,proto). Runs alternate A B A B; each ratio is
# flowscope's median wall time / nfdump's (whole program, STORE_BENCH_RUNS runs, default 3);
# below 1 flowscope is faster. Every answer is checked against nfdump's before a ratio is given.
# Called by store_vs_nfdump.sh. Usage: store_questions.sh FLOWSCOPE_BIN WORKDIR NFCAPD_FILE STORE
set -euo pipefail
bin=${1:?} work=${2:?} file=${3:?} raw_store=${4:?}
label=${STORE_BENCH_LABEL:-}  # the data set, e.g. "softflowd data", shown in every row
runs=${STORE_BENCH_RUNS:-3}
roll_store="$work/data_rollups"
rm -rf "$roll_store"
mkdir -p "$roll_store"
"$bin" store config -d "$roll_store" --rollup by_cln=cln_addr --rollup by_srv=srv_addr \
  --rollup pair=cln_addr,srv_addr --rollup port_proto=srv_port,proto >/dev/null
/usr/bin/time -f '%e %M' -o "$work/roll_import.txt" "$bin" import -d "$roll_store" "$file" >/dev/null
export TZ=UTC
win=(-t all --no-progress)

ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# alternate OUT_A OUT_B 'cmd a' 'cmd b': medians of wall ms as "a b"; last outputs kept.
alternate() {
  local oa=$1 ob=$2 ca=$3 cb=$4 ta=() tb=() t
  for ((i = 0; i < runs; i++)); do
    t=$(ms); eval "$ca" >"$oa"; ta+=($(( $(ms) - t )))
    t=$(ms); eval "$cb" >"$ob"; tb+=($(( $(ms) - t )))
  done
  echo "$(printf '%s\n' "${ta[@]}" | median) $(printf '%s\n' "${tb[@]}" | median)"
}
# question NAME 'flowscope args (store added)' 'nfdump command' CHECK: a table row.
# CHECK names a function FS_OUT NF_OUT that prints "ok DETAILS" or "differ DETAILS".
question() {
  local name=$1 fs=$2 nf=$3 check=$4 r1 r2 c1 c2
  read -r f1 n1 < <(alternate "$work/q_fs.txt" "$work/q_nf.txt" "$bin $fs -d $raw_store" "$nf")
  c1=$($check "$work/q_fs.txt" "$work/q_nf.txt")
  read -r f2 n2 < <(alternate "$work/q_fsr.txt" "$work/q_nf2.txt" "$bin $fs -d $roll_store" "$nf")
  c2=$($check "$work/q_fsr.txt" "$work/q_nf2.txt")
  if [[ $c1 != ok* || $c2 != ok* ]]; then
    echo "| F17 $name${label:+ ($label)}: flowscope / nfdump | - | ANSWERS DIFFER: no rollup: $c1; rollups: $c2 |"
    return
  fi
  printf '| F17 %s: flowscope / nfdump | %.2f no rollup, %.2f with rollups | %s; medians of %d alternating runs: no rollup %d ms vs nfdump %d ms, rollups %d ms vs %d ms |\n' \
    "$name${label:+ ($label)}" "$(echo "$f1 / ($n1 + 0.001)" | bc -l)" "$(echo "$f2 / ($n2 + 0.001)" | bc -l)" \
    "${c1#ok }" "$runs" "$f1" "$n1" "$f2" "$n2"
}
# Checks: the same numbers in a column (sorted, so that ties may order differently), or the same
# line count and column sum.
same_column() {  # FS_OUT FS_COL NF_OUT NF_COL
  local a b
  a=$(awk -F, -v c="$2" '$1 != "" {print $c}' "$1" | sort -n | paste -sd' ')
  b=$(awk -F, -v c="$4" '{gsub(/ /, "", $c)} $c ~ /^[0-9]+$/ {print $c}' "$3" | sort -n | paste -sd' ')
  if [[ -n $a && $a == "$b" ]]; then echo "ok same $(wc -w <<<"$a") values"; else echo "differ [${a:0:80}] vs [${b:0:80}]"; fi
}
same_count_sum() {  # FS_OUT FS_COL NF_OUT NF_COL
  local a b
  a=$(awk -F, -v c="$2" '$1 != "" {n++; s += $c} END {printf "%d %.0f", n, s}' "$1")
  b=$(awk -F, -v c="$4" '{gsub(/ /, "", $c)} $c ~ /^[0-9]+$/ {n++; s += $c} END {printf "%d %.0f", n, s}' "$3")
  if [[ $a == "$b" ]]; then echo "ok same rows and sum ($a)"; else echo "differ ($a) vs ($b)"; fi
}
chk_raw() { same_count_sum "$1" 7 "$2" 7; }
chk_top_hosts() { same_column "$1" 3 "$2" 10; }
chk_top_records() { same_column "$1" 1 "$2" 1; }
chk_pairs() { same_column "$1" 4 "$2" 1; }
chk_all_pairs() { same_count_sum "$1" 4 "$2" 1; }
chk_port_proto() { same_count_sum "$1" 4 "$2" 1; }
chk_net24() { same_column "$1" 3 "$2" 1; }
chk_csv() { same_count_sum "$1" 9 "$2" 9; }

nfd="nfdump -q -N -r $file"
question "'dst port 22 and packets > 10', raw records" \
  "query ${win[*]} --csv --fields start_time,cln_addr,srv_addr,cln_port,srv_port,proto,cln_bytes --nfdump-filter 'dst port 22 and packets > 10'" \
  "$nfd -o 'fmt:%ts,%sa,%da,%sp,%dp,%pr,%byt' 'dst port 22 and packets > 10'" chk_raw
question "top-25 source hosts by bytes" "stat ${win[*]} -grp cln_addr -n 25 --csv" \
  "$nfd -s srcip/bytes -n 25 -o csv" chk_top_hosts
question "top-25 records by bytes" "query ${win[*]} -O total_bytes:desc -c 25 --csv --fields total_bytes" \
  "$nfd -O bytes -n 25 -o 'fmt:%byt'" chk_top_records
question "top-25 host pairs by bytes" "stat ${win[*]} -grp cln_addr,srv_addr -n 25 --csv" \
  "$nfd -A srcip,dstip -O bytes -n 25 -o 'fmt:%byt'" chk_pairs
question "all host pairs as CSV" "stat ${win[*]} -grp cln_addr,srv_addr -n 0 --csv" \
  "$nfd -A srcip,dstip -o 'fmt:%byt'" chk_all_pairs
question "port/protocol stats (the whole file)" "stat ${win[*]} -grp srv_port,proto -n 0 --csv" \
  "$nfd -A dstport,proto -o 'fmt:%byt'" chk_port_proto
question "top-25 IPv4 /24 source networks" "stat ${win[*]} -grp cln_addr/24 -n 25 --csv --nfdump-filter ipv4" \
  "$nfd -A srcip4/24 -O bytes -n 25 -o 'fmt:%byt' ipv4" chk_net24
question "CSV of every record" \
  "query ${win[*]} --csv --fields start_time,end_time,cln_addr,srv_addr,cln_port,srv_port,proto,cln_packets,cln_bytes" \
  "$nfd -o 'fmt:%ts,%te,%sa,%da,%sp,%dp,%pr,%pkt,%byt'" chk_csv
read -r roll_s roll_kb <"$work/roll_import.txt"
echo "| F17 import with rollups (4 views x 3 levels)${label:+ ($label)} | $(awk -v s="$roll_s" 'BEGIN {printf "%.1f s", s}') | wall time of flowscope import into the rollup store, peak RSS $(( roll_kb / 1024 )) MiB |"
