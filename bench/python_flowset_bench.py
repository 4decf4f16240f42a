#!/usr/bin/env python3
"""make bench: records/s through flowtools.FlowSet with Flow objects (pyflowtools' way) and
through FlowSet.to_numpy(), on a flow-tools file of 1 M v5 records written with the
flowtools writer from the corpus records (repeated). Prints one markdown table row each.
Usage: python_flowset_bench.py WORKDIR [N]   (PYTHONPATH must hold the built package)"""

import os
import sys
import time

import flowtools


def make_file(path, n, corpus):
    src = os.path.join(corpus, "flowtools", "gen_v5_n3000_z0.ft")
    # The corpus v5 PDUs are rebuilt from the records: 30 per PDU (the v5 maximum).
    import struct
    flows = list(flowtools.FlowSet(src))
    pdus = []
    for i in range(0, len(flows) - 29, 30):
        body = b"".join(struct.pack(">IIIHHIIIIHHBBBBHHBBH", f.srcaddr_raw, f.dstaddr_raw,
                                    f.nexthop_raw, f.input, f.output, f.dPkts, f.dOctets,
                                    f.first_raw, f.last_raw, f.srcport, f.dstport, 0,
                                    f.tcp_flags, f.prot, f.tos, f.src_as, f.dst_as,
                                    f.src_mask, f.dst_mask, 0) for f in flows[i:i + 30])
        pdus.append(flowtools.FlowPDU(1, struct.pack(">HHIIIIBBH", 5, 30, 1000, 1700000000, 0,
                                                     i, 0, 0, 0) + body))
    with flowtools.FlowSet(path, True, z_level=0) as out:
        written = 0
        while written < n:
            for p in pdus:
                out.write(p)
                written += 30
                if written >= n:
                    break
    return written


def main():
    work = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    corpus = os.environ.get("FLOWSCOPE_CORPUS",
                            os.path.join(os.path.dirname(__file__), "..", "tests", "data", "corpus"))
    path = os.path.join(work, "bench_1m.ft")
    total = make_file(path, n, corpus)

    t = time.perf_counter()
    octets = 0
    for f in flowtools.FlowSet(path):
        octets += f.dOctets
    per_object = total / (time.perf_counter() - t)

    import numpy  # noqa: F401 - imported before the clock starts: a one-time cost, not a rate
    t, cpu = time.perf_counter(), time.process_time()
    flowset = flowtools.FlowSet(path)
    opened, opened_cpu = time.perf_counter(), time.process_time()
    arr = flowset.to_numpy()
    numpy_octets = int(arr["dOctets"].sum())
    done, done_cpu = time.perf_counter(), time.process_time()
    via_numpy = total / (done - t)
    numpy_only = total / (done - opened)
    numpy_only_cpu = total / max(done_cpu - opened_cpu, 1e-9)
    assert numpy_octets == octets, "to_numpy and Flow objects disagree"
    print(f"| python flowtools: FlowSet of {total:,} v5 flows, Flow objects (f.dOctets) | "
          f"{per_object / 1e6:.2f} M records/s | pyflowtools-style iteration |")
    print(f"| python flowtools: FlowSet(path).to_numpy() of {total:,} flows | "
          f"{via_numpy / 1e6:.2f} M records/s | goal >= 2 M records/s; opening the file "
          f"included; to_numpy() alone {numpy_only / 1e6:.2f} M records/s wall, "
          f"{numpy_only_cpu / 1e6:.2f} M records/s of CPU time (the wall rate of a busy machine "
          f"is lower) |")


if __name__ == "__main__":
    main()
