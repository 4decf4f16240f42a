#!/usr/bin/env python3
"""`make soak` (F18): SIGKILL `flowscope serve` at random points of a NetFlow v9 feed, restart it
on the same data directory and check what the raw-flow log promises (docs/serve.md
"Durability"):

  lost       flows the server had received before the kill that are not in its log afterwards:
             at most what one sync interval (and one unsent partial batch) holds;
  duplicates sessions stored twice: zero;
  equal      the sessions stored after the restart (and a clean stop) equal those of an
             uninterrupted server fed the same flows (every field but session_id).

Usage: soak.py FLOWSCOPE_BIN [--trials N] [--flows N] [--rate N] [--seed S]
Prints one line per trial and a summary; exits 1 when a trial breaks a promise.
"""
import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

SYNC_INTERVAL_S = 1.0


def wait_for(cond, limit=30.0, what="condition"):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


class Serve:
    def __init__(self, bin_, work, name, window="10s"):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.ready = os.path.join(self.dir, "ready.json")
        with open(os.path.join(self.dir, "serve.toml"), "w") as f:
            f.write(f"""[ingest]
listen = ["127.0.0.1"]
netflow_port = 0
ipfix_port = 0
sflow_port = 0
workers = 2
[stitch]
window = "{window}"
shards = 2
# Stitching must not depend on pauses of the feed (a loaded machine), or the uninterrupted
# reference would not be a reference: record time moves only with the records.
quiet_after = "1h"
[store]
dir = "data"
sync_interval = "{int(SYNC_INTERVAL_S * 1000)}ms"
[query]
port = 0
[http]
port = 0
""")
        self.bin = bin_
        self.proc = None

    def start(self):
        if os.path.exists(self.ready):
            os.remove(self.ready)
        self.proc = subprocess.Popen(
            [self.bin, "--log-level", "warn", "serve", "-C", os.path.join(self.dir, "serve.toml"),
             "--ready-file", self.ready], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        info = wait_for(lambda: self._read_ready(), what="serve ready file")
        self.netflow = info["netflow_port"]
        self.http = info["http_port"]

    def _read_ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"serve exited with {self.proc.returncode}")
        try:
            with open(self.ready) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/metrics", timeout=5) as r:
            out = {}
            for line in r.read().decode().splitlines():
                if line.startswith("#") or " " not in line:
                    continue
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
            return out

    def metric(self, name):
        return sum(v for k, v in self.metrics().items() if k == name or k.startswith(name + "{"))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        if self.proc.wait(timeout=60) != 0:
            raise RuntimeError(f"serve exited with {self.proc.returncode} on SIGTERM")

    def sessions(self):
        out = subprocess.run(
            [self.bin, "query", "-d", os.path.join(self.dir, "data"), "-t", "all", "-c", "0",
             "-o", "json", "--no-progress"], check=True, capture_output=True, text=True).stdout
        rows = []
        for line in out.splitlines():
            line = line.strip().rstrip(",")
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            row.pop("session_id", None)
            rows.append(json.dumps(row, sort_keys=True))
        if not rows and out.strip().startswith("["):
            for row in json.loads(out):
                row.pop("session_id", None)
                rows.append(json.dumps(row, sort_keys=True))
        return collections.Counter(rows)


def gen(bin_, port, count, rate, seed):
    return subprocess.Popen(
        [bin_, "gen", "flows", "--format", "v9", "--seed", str(seed), "--exporters", "1",
         "--count", str(count), "--rate", str(rate), "--to", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def trial(bin_, work, index, args, rng):
    seed = args.seed + index
    live = Serve(bin_, work, f"trial{index}", args.window)
    live.start()
    feed = gen(bin_, live.netflow, args.flows, args.rate, seed)
    duration = args.flows / args.rate
    time.sleep(rng.uniform(0.1, 0.9) * duration)
    received = live.metric("flowscope_ingest_records_total")
    live_drops = live.metric("flowscope_drops_total")
    live.kill()
    feed.kill()
    feed.wait()

    live.start()
    found = int(live.metric("flowscope_flow_log_found_flows"))
    replayed_dups = int(live.metric("flowscope_flow_log_replayed_duplicates"))
    live.stop()
    recovered = live.sessions()

    ref = Serve(bin_, work, f"ref{index}", args.window)
    ref.start()
    if found > 0:
        g = gen(bin_, ref.netflow, found, args.rate, seed)
        g.wait()
        wait_for(lambda: ref.metric("flowscope_stitch_flows_total") >= found,
                 what="the reference server to stitch every flow")
    ref_drops = ref.metric("flowscope_drops_total")
    ref.stop()
    reference = ref.sessions()
    shutil.rmtree(live.dir, ignore_errors=True)
    shutil.rmtree(ref.dir, ignore_errors=True)

    lost = max(0, int(received) - found)
    duplicates = sum((recovered - reference).values())
    missing = sum((reference - recovered).values())
    allowed = args.rate * SYNC_INTERVAL_S
    # The reference is fed the first `found` flows of the same feed, so the comparison holds
    # only when neither server dropped a datagram or record (a loaded machine can make the
    # kernel or the queue drop some): such a trial is inconclusive, not passed.
    inconclusive = live_drops > 0 or ref_drops > 0
    ok = lost <= allowed and (inconclusive or (duplicates == 0 and missing == 0))
    verdict = "FAIL" if not ok else ("inconclusive" if inconclusive else "ok")
    print(f"trial {index + 1}: received {int(received)} before the kill, {found} in the log "
          f"(lost {lost}, allowed {int(allowed)}); sessions {sum(recovered.values())} vs "
          f"{sum(reference.values())} uninterrupted: {duplicates} extra, {missing} missing; "
          f"{replayed_dups} replayed sessions already stored; drops {int(live_drops)} live, "
          f"{int(ref_drops)} reference -> {verdict}", flush=True)
    return ok, lost, duplicates, missing, inconclusive


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bin")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--flows", type=int, default=150000)
    p.add_argument("--rate", type=int, default=50000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--window", default="10s",
                   help="stitch window; shorter than the feed stores sessions before the kill")
    args = p.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="flowscope-soak.")
    results = []
    try:
        for i in range(args.trials):
            results.append(trial(os.path.abspath(args.bin), work, i, args, rng))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failed = sum(1 for r in results if not r[0])
    inconclusive = sum(1 for r in results if r[0] and r[4])
    print(f"soak: {len(results)} SIGKILL trials, {failed} failed, {inconclusive} inconclusive "
          f"(drops under load); lost flows max "
          f"{max(r[1] for r in results)}, total {sum(r[1] for r in results)}; duplicate sessions "
          f"{sum(r[2] for r in results)}; missing sessions {sum(r[3] for r in results)}")
    # More than half inconclusive: the machine was too loaded for the soak to say anything.
    return 1 if failed or inconclusive * 2 > len(results) else 0


if __name__ == "__main__":
    sys.exit(main())
