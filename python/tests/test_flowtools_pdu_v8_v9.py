"""FlowPDU for the NetFlow v8 aggregations 8.2 to 8.14 against tshark's decoding of the same
packets, and for NetFlow v9/IPFIX (through a TemplateCache) against the corpus truth files that
tshark made (tests/data/corpus/README.md)."""

import csv
import json
import random
import shutil
import struct
import subprocess
import zlib
from datetime import datetime, timezone

import pytest

import flowtools

from test_flowtools_pdu_write import tshark_fields

# Every Flow attribute of pyflowtools.
ATTRS = ["dFlows", "dOctets", "dPkts", "dst_as", "dst_mask", "dst_tag", "dstaddr", "dstaddr_raw",
         "dstport", "engine_id", "engine_type", "exaddr", "extra_pkts", "first", "first_raw",
         "in_encaps", "input", "last", "last_raw", "marked_tos", "nexthop", "nexthop_raw",
         "out_encaps", "output", "peer_nexthop", "peer_nexthop_raw", "prot", "router_sc",
         "src_as", "src_mask", "src_tag", "srcaddr", "srcaddr_raw", "srcport", "sysUpTime",
         "tcp_flags", "tos", "unix_nsecs", "unix_secs"]

# The v8 aggregation records as Cisco exports them, written out here from flow-tools'
# record layouts (Cisco's v8 export formats): (struct format, attribute per field,
# records per PDU at most). "x" are pads and reserved bytes.
COUNTS = ["dFlows", "dPkts", "dOctets", "first_raw", "last_raw"]
V8 = {
    2: (">IIIIIBxxxHH", COUNTS + ["prot", "srcport", "dstport"], 51),
    3: (">IIIIIIBxHHxx", COUNTS + ["srcaddr_raw", "src_mask", "src_as", "input"], 44),
    4: (">IIIIIIBxHHxx", COUNTS + ["dstaddr_raw", "dst_mask", "dst_as", "output"], 44),
    5: (">IIIIIIIBBxxHHHH", COUNTS + ["srcaddr_raw", "dstaddr_raw", "dst_mask", "src_mask",
                                      "src_as", "dst_as", "input", "output"], 35),
    6: (">IIIIIHBBII", ["dstaddr_raw", "dPkts", "dOctets", "first_raw", "last_raw", "output",
                        "tos", "marked_tos", "extra_pkts", "router_sc"], 44),
    7: (">IIIIIIHHBBxxII", ["dstaddr_raw", "srcaddr_raw", "dPkts", "dOctets", "first_raw",
                            "last_raw", "output", "input", "tos", "marked_tos", "extra_pkts",
                            "router_sc"], 35),
    8: (">IIHHIIIIHHBBBxII", ["dstaddr_raw", "srcaddr_raw", "dstport", "srcport", "dPkts",
                              "dOctets", "first_raw", "last_raw", "output", "input", "tos",
                              "prot", "marked_tos", "extra_pkts", "router_sc"], 32),
    9: (">IIIIIHHHHBxxx", COUNTS + ["src_as", "dst_as", "input", "output", "tos"], 44),
    10: (">IIIIIBBxxHHHH", COUNTS + ["prot", "tos", "srcport", "dstport", "input", "output"], 44),
    11: (">IIIIIIBBHHxx", COUNTS + ["srcaddr_raw", "src_mask", "tos", "src_as", "input"], 44),
    12: (">IIIIIIBBHHxx", COUNTS + ["dstaddr_raw", "dst_mask", "tos", "dst_as", "output"], 44),
    13: (">IIIIIIIBBBxHHHH", COUNTS + ["srcaddr_raw", "dstaddr_raw", "dst_mask", "src_mask",
                                       "tos", "src_as", "dst_as", "input", "output"], 35),
    14: (">IIIIIIIBBBBHHHH", COUNTS + ["srcaddr_raw", "dstaddr_raw", "dst_mask", "src_mask",
                                       "tos", "prot", "srcport", "dstport", "input", "output"],
         35),
}
HEADER_ATTRS = {"unix_secs", "unix_nsecs", "sysUpTime", "exaddr", "engine_type", "engine_id"}

# tshark 4.0's field for each attribute; srcaddr/dstaddr are "...net" in the prefix
# aggregations. Values: int, hex bytes ("19:1a:1b:1c"), hex ("0x17"), seconds or an address.
TSHARK = {"dFlows": "cflow.flows", "dPkts": "cflow.packets", "dOctets": "cflow.octets",
          "first_raw": "cflow.timestart", "last_raw": "cflow.timeend", "prot": "cflow.protocol",
          "srcport": "cflow.srcport", "dstport": "cflow.dstport", "src_mask": "cflow.srcmask",
          "dst_mask": "cflow.dstmask", "src_as": "cflow.srcas", "dst_as": "cflow.dstas",
          "input": "cflow.inputint", "output": "cflow.outputint", "tos": "cflow.tos",
          "marked_tos": "cflow.marked_tos", "extra_pkts": "cflow.extra_packets",
          "router_sc": "cflow.routersc"}
PREFIX_AGGS = {3, 4, 5, 11, 12, 13, 14}

# Where Wireshark reads the record otherwise than flow-tools (whose layout FlowPDU follows, as
# pyflowtools did through flow-tools' library). The attribute is then compared with the tshark
# field named here (the two mask bytes swapped), or not at all (None) with the reason.
TSHARK_DIFFERS = {
    (5, "src_mask"): "cflow.dstmask", (5, "dst_mask"): "cflow.srcmask",
    (13, "src_mask"): "cflow.dstmask", (13, "dst_mask"): "cflow.srcmask",
    (14, "src_mask"): "cflow.dstmask", (14, "dst_mask"): "cflow.srcmask",
    # 8.9: Wireshark puts ToS right after the AS pair and the interfaces after the reserved
    # bytes; flow-tools (and Cisco's AS-ToS layout) has the interfaces first.
    (9, "input"): None, (9, "output"): None, (9, "tos"): None,
}


def tshark_value(field, raw):
    if raw.startswith("0x"):
        return int(raw, 16)
    if field in ("cflow.marked_tos", "cflow.extra_packets"):  # printed as hex bytes
        return int(raw.replace(":", ""), 16)
    if raw.count(".") == 3:
        return struct.unpack(">I", bytes(int(x) for x in raw.split(".")))[0]
    if "." in raw:
        return round(float(raw) * 1000)
    return int(raw)


def v8_payload(agg, values, seq=9000, uptime=4000000, secs=1700000000, nsecs=5000000):
    fmt, names, _ = V8[agg]
    out = struct.pack(">HHIIIIBBBBI", 8, len(values), uptime, secs, nsecs, seq, 3, 7, agg, 2, 0)
    for v in values:
        out += struct.pack(fmt, *[v[n] for n in names])
    return out


def random_records(agg, n, rng):
    fmt, names, _ = V8[agg]
    codes = [c for c in fmt[1:] if c != "x"]
    limits = {"B": 0xFF, "H": 0xFFFF, "I": 0xFFFFFFFF}
    return [{name: rng.randint(1, limits[c]) for name, c in zip(names, codes)}
            for _ in range(n)]


@pytest.mark.parametrize("agg", sorted(V8))
def test_v8_aggregation_every_attribute(agg, tmp_path):
    rng = random.Random(agg)
    values = random_records(agg, 5, rng)
    payload = v8_payload(agg, values)
    pdu = flowtools.FlowPDU(0x0A000002, payload)
    assert (pdu.version, pdu.count, pdu.agg_method, pdu.agg_version) == (8, 5, agg, 2)
    assert (pdu.sequence, pdu.sysUpTime, pdu.unix_secs, pdu.unix_nsecs) == (9000, 4000000,
                                                                           1700000000, 5000000)
    assert (pdu.engine_type, pdu.engine_id) == (3, 7)
    names = set(V8[agg][1])
    flows = list(pdu)
    assert len(flows) == len(pdu) == 5
    for flow, want in zip(flows, values):
        assert flow.version == f"8.{agg}"
        for attr in ATTRS:
            raw = attr if attr.endswith("_raw") or attr + "_raw" not in ATTRS else attr + "_raw"
            if raw in names:
                got = getattr(flow, attr)
                if attr in ("srcaddr", "dstaddr"):
                    assert got == ".".join(str(b) for b in struct.pack(">I", want[raw]))
                elif attr in ("first", "last"):
                    # ftltime: export time - uptime + the record's uptime
                    ms = 1700000000 * 1000 + 5 - 4000000 + want[raw]
                    assert got == pytest.approx(ms / 1000, abs=1e-6)
                else:
                    assert got == want[raw], attr
            elif attr in HEADER_ATTRS:
                assert getattr(flow, attr) == {"unix_secs": 1700000000, "unix_nsecs": 5000000,
                                               "sysUpTime": 4000000, "exaddr": "10.0.0.2",
                                               "engine_type": 3, "engine_id": 7}[attr]
            else:
                with pytest.raises(flowtools.Error, match="Attribute not supported"):
                    getattr(flow, attr)

    tshark = shutil.which("tshark")
    if not tshark:
        pytest.skip("tshark is not installed: the cross-check with Wireshark's decoder is skipped")
    compared = []
    for raw in V8[agg][1]:
        field = TSHARK.get(raw)
        if raw == "srcaddr_raw":
            field = "cflow.srcnet" if agg in PREFIX_AGGS else "cflow.srcaddr"
        if raw == "dstaddr_raw":
            field = "cflow.dstnet" if agg in PREFIX_AGGS else "cflow.dstaddr"
        field = TSHARK_DIFFERS.get((agg, raw), field)
        if field is None:
            continue
        compared.append((raw, field))
    columns = tshark_fields(tshark, tmp_path, payload, *[f for _, f in compared])
    for (raw, field), column in zip(compared, columns):
        got = [tshark_value(field, x) for x in column.split(",")]
        assert got == [getattr(f, raw) for f in flows], (raw, field)
    # Every wire field but the three of 8.9 that Wireshark places elsewhere was compared.
    assert len(compared) == len(V8[agg][1]) - (3 if agg == 9 else 0)


@pytest.mark.parametrize("agg", sorted(V8))
def test_v8_aggregation_bad_input(agg):
    rng = random.Random(100 + agg)
    _, _, max_count = V8[agg]
    payload = v8_payload(agg, random_records(agg, 3, rng))
    assert len(flowtools.FlowPDU(1, payload)) == 3
    with pytest.raises(flowtools.Error, match="must be"):
        flowtools.FlowPDU(1, payload[:-1])  # truncated record
    with pytest.raises(flowtools.Error, match="must be"):
        flowtools.FlowPDU(1, payload[:2] + b"\x00\x04" + payload[4:])  # count says 4
    with pytest.raises(flowtools.Error, match="count 0"):
        flowtools.FlowPDU(1, payload[:2] + b"\x00\x00" + payload[4:])
    with pytest.raises(flowtools.Error, match=f"count {max_count + 1}"):
        flowtools.FlowPDU(1, payload[:2] + struct.pack(">H", max_count + 1) + payload[4:])
    with pytest.raises(flowtools.Error, match="shorter than its 28-byte header"):
        flowtools.FlowPDU(1, payload[:20])
    full = v8_payload(agg, random_records(agg, max_count, rng))
    assert len(flowtools.FlowPDU(1, full)) == max_count
    for method in (0, 15, 255):
        with pytest.raises(flowtools.Error, match=f"v8.{method} aggregation is not supported"):
            flowtools.FlowPDU(1, payload[:22] + bytes([method]) + payload[23:])


def test_v8_pdus_order_and_write(tmp_path):
    rng = random.Random(7)
    a = flowtools.FlowPDU(1, v8_payload(5, random_records(5, 4, rng), seq=100))
    b = flowtools.FlowPDU(1, v8_payload(5, random_records(5, 2, rng), seq=104))
    assert a.is_next(b) and not b.is_next(a) and a < b
    # written to a v5 file, the fields both versions have survive
    path = tmp_path / "v8.ft"
    with flowtools.FlowSet(str(path), True) as out:
        out.write(a)
    back = list(flowtools.FlowSet(str(path)))
    assert [f.srcaddr for f in back] == [f.srcaddr for f in a]
    assert [f.dOctets for f in back] == [f.dOctets for f in a]


# --- NetFlow v9 and IPFIX --------------------------------------------------------------------


def udp_payloads(path):
    """(frame number, exporter IPv4 as an int, UDP payload) of every UDP datagram of a classic
    pcap or pcapng file with Ethernet frames (all the corpus flow captures are)."""
    data = path.read_bytes()
    frames = []
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        pos, endian = 0, "<"
        while pos + 12 <= len(data):
            if data[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":
                endian = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            btype, blen = struct.unpack(endian + "II", data[pos:pos + 8])
            if btype == 6:  # enhanced packet block
                caplen = struct.unpack(endian + "I", data[pos + 20:pos + 24])[0]
                frames.append(data[pos + 28:pos + 28 + caplen])
            elif btype == 3:  # simple packet block
                frames.append(data[pos + 12:pos + blen - 4])
            pos += blen
    else:
        endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        pos = 24
        while pos + 16 <= len(data):
            caplen = struct.unpack(endian + "I", data[pos + 8:pos + 12])[0]
            frames.append(data[pos + 16:pos + 16 + caplen])
            pos += 16 + caplen
    out = []
    for number, frame in enumerate(frames, 1):
        off, ethertype = 14, struct.unpack(">H", frame[12:14])[0]
        while ethertype in (0x8100, 0x88A8):
            ethertype = struct.unpack(">H", frame[off + 2:off + 4])[0]
            off += 4
        if ethertype == 0x0800:
            ihl = (frame[off] & 0x0F) * 4
            if frame[off + 9] != 17:
                continue
            exporter = struct.unpack(">I", frame[off + 12:off + 16])[0]
            udp = off + ihl
        elif ethertype == 0x86DD:
            if frame[off + 6] != 17:
                continue
            exporter = zlib.crc32(frame[off + 8:off + 24])  # FlowPDU takes an IPv4 exporter
            udp = off + 40
        else:
            continue
        length = struct.unpack(">H", frame[udp + 4:udp + 6])[0]
        out.append((number, exporter, frame[udp + 8:udp + length]))
    return out


def tshark_date(text):
    """"Oct  9, 2015 09:47:47.569000000 UTC" -> seconds (ms precision)."""
    month_day, year_time = text.split(",", 1)
    month, day = month_day.split()
    year, clock = year_time.split()[:2]
    hms, frac = clock.split(".")
    t = datetime.strptime(f"{month} {day} {year} {hms}", "%b %d %Y %H:%M:%S")
    return t.replace(tzinfo=timezone.utc).timestamp() + int(frac[:3]) / 1000


# As tests/decode/corpus_truth_test.cpp (and docs/decode.md "Known gaps"): where tshark and
# flowscope's decoder differ, with the reason there.
COUNT_GAPS = {"ls_netflow9_h3c.pcap"}  # tshark stops after the first record
TIME_GAPS = {"ls_netflow9_nprobe.pcap", "ls_ipfix.pcap", "ls_ipfix_barracuda.pcap",
             "ls_ipfix_barracuda_extended_uniflow.pcap", "ls_ipfix_mikrotik.pcap"}


def corpus_captures(folder):
    return sorted(p.name for p in folder.glob("*.pcap") if (folder / "truth" /
                                                            (p.name + ".truth.csv")).exists())


def check_capture(folder, name):
    with open(folder / "truth" / (name + ".truth.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    options = {r["template_id"] for r in rows if r["kind"] == "options_template"}
    expected = [r for r in rows if r["kind"] == "data" and r["template_id"] not in options]
    cache = flowtools.TemplateCache()
    flows, pdus = [], 0
    for _, exporter, payload in udp_payloads(folder / name):
        if payload[:2] not in (b"\x00\x09", b"\x00\x0a"):
            continue
        pdu = flowtools.FlowPDU(exporter, payload, cache=cache)
        pdus += 1
        assert pdu.version in (9, 10)
        for flow in pdu:
            flows.append((pdu, flow))
    assert pdus > 0
    if name in COUNT_GAPS:
        assert len(flows) > len(expected)
    else:
        assert len(flows) == len(expected), "record count differs from tshark"
    first = lambda v: v.split("|")[0]  # noqa: E731
    for (pdu, flow), row in zip(flows, expected):
        where = f"{name} frame {row['frame']} record {row['record_index']}"
        assert pdu.version == int(row["version"]), where
        assert pdu.unix_secs == int(row["export_secs"]), where
        assert pdu.sequence == int(row["sequence"]), where
        assert pdu.source_id == int(row["domain_id"]), where
        fields = json.loads(row["all_fields"])
        for attr, column, v6_key in (("srcaddr", "srcaddr", "cflow.srcaddrv6"),
                                     ("dstaddr", "dstaddr", "cflow.dstaddrv6")):
            want = first(row[column])
            if want == "0.0.0.0" and v6_key in fields:
                want = first(fields[v6_key])  # both kinds in one template (procera)
            if want:
                assert getattr(flow, attr) == want, (where, attr)
        for attr, column in (("srcport", "srcport"), ("dstport", "dstport"), ("prot", "protocol"),
                             ("dPkts", "packets"), ("dOctets", "octets")):
            if first(row[column]):
                assert getattr(flow, attr) == int(first(row[column])), (where, attr)
        if name in TIME_GAPS:
            continue
        for attr in ("first", "last"):
            want = first(row[attr])
            if not want:
                continue
            if "," in want:  # an absolute time (IPFIX)
                assert getattr(flow, attr) == pytest.approx(tshark_date(want), abs=1e-6), where
            else:  # v9: the record's uptime in seconds
                assert getattr(flow, attr + "_raw") == round(float(want) * 1000), where
    return len(flows)


@pytest.mark.parametrize("folder", ["netflow", "ipfix"])
def test_template_pdus_match_tshark_truth(netflow_dir, folder):
    d = netflow_dir.parent / folder
    captures = [c for c in corpus_captures(d) if "netflow9" in c or "ipfix" in c]
    assert captures
    total = sum(check_capture(d, c) for c in captures)
    assert total > (250 if folder == "netflow" else 100)


def test_template_cache_across_pdus(netflow_dir):
    dat = netflow_dir / "dat"
    tpl = (dat / "netflow9_test_cisco_asa_1_tpl.dat").read_bytes()
    data = (dat / "netflow9_test_cisco_asa_1_data.dat").read_bytes()
    cache = flowtools.TemplateCache()
    # Data before its template: skipped and counted, not held back.
    early = flowtools.FlowPDU(0x0A000001, data, cache=cache)
    assert len(early) == 0 and early.missing_templates > 0 and len(cache) == 0
    t = flowtools.FlowPDU(0x0A000001, tpl, cache=cache)
    assert len(t) == 0 and len(cache) == t.count  # a packet of template records only
    got = flowtools.FlowPDU(0x0A000001, data, cache=cache)
    assert len(got) == got.count == 14 and got.missing_templates == 0
    assert t.is_next(got) and t < got  # v9 sequences count packets
    # Templates are per exporter (and source id): another exporter does not see them.
    other = flowtools.FlowPDU(0x0A000002, data, cache=cache)
    assert len(other) == 0 and other.missing_templates == early.missing_templates
    # Another cache is empty; the module's default cache is used without cache=.
    assert len(flowtools.FlowPDU(0x0A000001, data, cache=flowtools.TemplateCache())) == 0
    flowtools.FlowPDU(0x0A000003, tpl)
    assert len(flowtools.FlowPDU(0x0A000003, data)) == 14
    assert len(flowtools.default_template_cache) >= len(cache)
    flow = list(got)[0]
    assert flow.version == "9" and flow.exaddr == "10.0.0.1"
    assert flow.engine_type == got.source_id >> 8 & 0xFF
    assert flow.unix_secs == got.unix_secs and flow.sysUpTime == got.sysUpTime
    with pytest.raises(flowtools.Error, match="Attribute not supported"):
        flow.dFlows
    with pytest.raises(TypeError):
        flowtools.FlowPDU(1, data, cache="not a cache")


def test_ipfix_ipv6_flows_and_bad_input(netflow_dir, tmp_path):
    dat = netflow_dir.parent / "ipfix" / "dat"
    cache = flowtools.TemplateCache()
    tpl = (dat / "ipfix_test_mikrotik_tpl.dat").read_bytes()
    v6 = (dat / "ipfix_test_mikrotik_data259.dat").read_bytes()
    assert len(flowtools.FlowPDU(7, tpl, cache=cache)) == 0
    pdu = flowtools.FlowPDU(7, v6, cache=cache)
    assert pdu.version == 10 and len(pdu) == pdu.count == 18
    flow = list(pdu)[0]
    assert ":" in flow.srcaddr and flow.srcaddr_raw > 2**32
    assert flow.srcaddr_raw == int.from_bytes(
        __import__("ipaddress").ip_address(flow.srcaddr).packed, "big")
    # flow-tools files hold IPv4 only: an IPv6 flow is refused, nothing written
    with flowtools.FlowSet(str(tmp_path / "x.ft"), True) as out:
        with pytest.raises(flowtools.Error, match="IPv6"):
            out.write(pdu)
    assert list(flowtools.FlowSet(str(tmp_path / "x.ft"))) == []
    # Damage: a clear error, never a crash.
    with pytest.raises(flowtools.Error, match="length"):
        flowtools.FlowPDU(7, v6[:-1], cache=cache)  # IPFIX length no longer matches
    with pytest.raises(flowtools.Error, match="shorter than its 16-byte header"):
        flowtools.FlowPDU(7, v6[:10], cache=cache)
    broken = bytearray(v6)
    broken[18:20] = struct.pack(">H", 0xFFF0)  # the first set's length runs past the message
    with pytest.raises(flowtools.Error, match="damaged: .*set_length_overrun"):
        flowtools.FlowPDU(7, bytes(broken), cache=cache)
    v9 = (netflow_dir / "dat" / "netflow9_test_cisco_asa_1_data.dat").read_bytes()
    with pytest.raises(flowtools.Error, match="shorter than its 20-byte header"):
        flowtools.FlowPDU(7, v9[:19], cache=cache)
    with pytest.raises(flowtools.Error, match="version 11"):
        flowtools.FlowPDU(7, b"\x00\x0b" + v9[2:], cache=cache)
    rng = random.Random(1)
    for _ in range(300):  # random damage never crashes
        b = bytearray(v6)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            list(flowtools.FlowPDU(7, bytes(b), cache=cache))
        except flowtools.Error:
            pass


def test_pduprint_example(netflow_dir):
    import os
    import pathlib
    import sys
    script = pathlib.Path(__file__).resolve().parents[1] / "examples" / "pduprint"
    dat = netflow_dir / "dat"
    data = dat / "netflow9_test_cisco_asa_1_data.dat"
    tpl = dat / "netflow9_test_cisco_asa_1_tpl.dat"
    out = subprocess.run([sys.executable, str(script), "-e", "10.0.0.1", str(data), str(tpl),
                          str(data)], capture_output=True, text=True, check=True,
                         env=dict(os.environ)).stdout.splitlines()
    assert out[0].startswith("# ") and "skipped" in out[0]
    flows = [line for line in out if line.startswith("v9 ")]
    assert len(flows) == 14
    assert flows[0] == "v9 192.168.14.1 0 2.2.2.11 17549 1 0 56"
