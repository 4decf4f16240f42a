"""flowtools.FlowSet and Flow against flow-tools' own flow-export truth (every attribute of
every record of every corpus file), and pyflowtools' errors."""

import csv
import ipaddress
import subprocess
import sys

import pytest

import flowtools

# flow-export -f2 column -> the Flow attribute with the same value.
CSV_TO_ATTR = {"dflows": "dFlows", "dpkts": "dPkts", "doctets": "dOctets",
               "sysuptime": "sysUpTime", "first": "first_raw", "last": "last_raw"}
# Every attribute pyflowtools has (the list, plus exaddr_raw).
ALL_ATTRS = """dFlows dOctets dPkts dst_as dst_mask dst_tag dstaddr dstaddr_raw dstport engine_id
engine_type exaddr exaddr_raw extra_pkts first first_raw in_encaps input last last_raw marked_tos
nexthop nexthop_raw out_encaps output peer_nexthop peer_nexthop_raw prot router_sc src_as
src_mask src_tag srcaddr srcaddr_raw srcport sysUpTime tcp_flags tos unix_nsecs
unix_secs""".split()

FILES = sorted(["cat_nf5_cap+be_z0.ft", "cat_preload_z6.ft", "cat_stdout_z6.ft",
                "gen_v1005_n200_z6.ft", "gen_v1_n200_z0.ft", "gen_v5_n200_be_z0.ft",
                "gen_v5_n3000_z0.ft", "gen_v5_n3000_z9.ft", "gen_v5_send_cap.ft",
                "gen_v5_send_cap_z0.ft", "gen_v5_send_cap_z0_inprogress.ft",
                "gen_v7_n200_z6.ft", "gen_v8.1_n200_z6.ft", "gen_v8.1_send_cap.ft",
                "import_v5_from_csv_z6.ft", "nf1_send_cap.ft", "nf5_cap.ft", "nf5_cap_V1.ft",
                "nf5_cap_V6.ft", "nf5_cap_V7.ft", "nf5_cap_be.ft", "nf5_cap_be_z0.ft",
                "nf5_cap_tag1005.ft", "nf5_cap_z0.ft", "nf7_send_cap.ft"])


def read_truth(path):
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    names = lines[0][2:].split(",")
    if names.count("nexthop") == 2:  # flow-export's v6 header names peer_nexthop "nexthop"
        names[len(names) - 1 - names[::-1].index("nexthop")] = "peer_nexthop"
    return names, [dict(zip(names, row)) for row in csv.reader(lines[1:])]


def ftltime(secs, nsecs, uptime, t):
    """flow-tools' ftltime, written out independently in Python (u32 arithmetic)."""
    m = 0xFFFFFFFF
    s, ms = secs, nsecs // 1_000_000
    s = (s - uptime // 1000) & m
    if uptime % 1000 > ms:
        s = (s - 1) & m
        ms += 1000
    ms -= uptime % 1000
    s = (s + t // 1000) & m
    ms += t % 1000
    if ms >= 1000:
        ms -= 1000
        s = (s + 1) & m
    return s + ms * 1e-3


@pytest.mark.parametrize("name", FILES)
def test_every_attribute_matches_flow_export(flowtools_dir, name):
    names, truth = read_truth(flowtools_dir / (name + ".flow-export.csv"))
    flows = list(flowtools.FlowSet(str(flowtools_dir / name)))
    assert len(flows) == len(truth)
    assert len(truth) > 0
    present = {CSV_TO_ATTR.get(n, n) for n in names}
    for flow, row in zip(flows, truth):
        for col, text in row.items():
            attr = CSV_TO_ATTR.get(col, col)
            value = getattr(flow, attr)
            if "." in text:  # an address (router_sc too: flow-export prints it dotted)
                if isinstance(value, int):
                    assert value == int(ipaddress.IPv4Address(text)), (col, text, value)
                else:
                    assert value == text, (col, value)
                    assert getattr(flow, attr + "_raw") == int(ipaddress.IPv4Address(text))
            else:
                assert value == int(text), (col, text, value)
        t = ftltime(int(row["unix_secs"]), int(row["unix_nsecs"]), int(row["sysuptime"]),
                    int(row["first"]))
        assert flow.first == pytest.approx(t, abs=1e-6)
        assert isinstance(flow.first, float)
        # Attributes the record version lacks raise as pyflowtools does.
        for attr in ALL_ATTRS:
            base = attr[:-4] if attr.endswith("_raw") else attr
            if base not in present and CSV_TO_ATTR.get(base, base) not in present:
                with pytest.raises(flowtools.Error, match="Attribute not supported"):
                    getattr(flow, attr)
                with pytest.raises(AttributeError):
                    getattr(flow, attr)


def test_getid_is_pyflowtools_layout(flowtools_dir):
    flow = next(iter(flowtools.FlowSet(str(flowtools_dir / "nf5_cap.ft"))))
    order = sys.byteorder
    src = flow.srcaddr_raw.to_bytes(4, order) + flow.srcport.to_bytes(2, order) + \
        flow.input.to_bytes(2, order)
    dst = flow.dstaddr_raw.to_bytes(4, order) + flow.dstport.to_bytes(2, order) + \
        flow.output.to_bytes(2, order)
    tail = bytes([flow.prot, 0])
    assert isinstance(flow.getID(), bytes)
    assert flow.getID() == src + dst + tail
    assert flow.getID(0) == flow.getID()
    assert flow.getID(1) == (src + dst if src < dst else dst + src) + tail
    assert flow.getID(bidir=1) == flow.getID(1)


def test_getid_bidir_matches_both_directions(flowtools_dir):
    flows = list(flowtools.FlowSet(str(flowtools_dir / "gen_v5_n3000_z0.ft")))
    ids = {}
    for f in flows:
        ids.setdefault(f.getID(1), set()).add(f.getID(0))
    # bidir ids never depend on direction: swapping halves gives the same id.
    for f in flows[:200]:
        a, b = f.getID(0)[:8], f.getID(0)[8:16]
        assert f.getID(1)[:16] == min(a, b) + max(a, b)


def test_stdin(flowtools_dir):
    path = flowtools_dir / "nf5_cap.ft"
    code = "import flowtools; print(sum(f.dOctets for f in flowtools.FlowSet('-')))"
    with open(path, "rb") as f:
        out = subprocess.run([sys.executable, "-c", code], stdin=f, capture_output=True,
                             check=True, text=True)
    expected = sum(f.dOctets for f in flowtools.FlowSet(str(path)))
    assert int(out.stdout) == expected > 0
    with open(path, "rb") as f:
        out = subprocess.run([sys.executable, "-c",
                              "import flowtools; print(len(list(flowtools.FlowSet())))"],
                             stdin=f, capture_output=True, check=True, text=True)
    assert int(out.stdout) == 61


def test_missing_file_is_ioerror(tmp_path):
    with pytest.raises(flowtools.IOError, match="nothere.ft"):
        flowtools.FlowSet(str(tmp_path / "nothere.ft"))
    with pytest.raises(OSError):
        flowtools.FlowSet(str(tmp_path / "nothere.ft"))


def test_not_flowtools_is_error(tmp_path):
    p = tmp_path / "junk.ft"
    p.write_bytes(b"hello world, not a flow file")
    with pytest.raises(flowtools.Error, match="not a flow-tools file"):
        flowtools.FlowSet(str(p))


def test_truncated_file(flowtools_dir, tmp_path):
    data = (flowtools_dir / "gen_v5_n3000_z0.ft").read_bytes()
    p = tmp_path / "cut.ft"
    p.write_bytes(data[:48 + 64 * 10 + 20])  # header, 10 records, part of the 11th
    assert len(list(flowtools.FlowSet(str(p)))) == 10
    p.write_bytes(data[:30])  # inside the header
    with pytest.raises(flowtools.Error, match="cut short"):
        flowtools.FlowSet(str(p))
    z = (flowtools_dir / "gen_v5_n3000_z9.ft").read_bytes()
    p.write_bytes(z[:48] + bytes(b ^ 0x5A for b in z[48:200]))
    with pytest.raises(flowtools.Error, match="damaged"):
        flowtools.FlowSet(str(p))


def test_reading_set_cannot_write_and_writing_set_cannot_iterate(flowtools_dir, tmp_path):
    fs = flowtools.FlowSet(str(flowtools_dir / "nf5_cap.ft"))
    with pytest.raises(ValueError):
        fs.write(next(iter(fs)))
    w = flowtools.FlowSet(str(tmp_path / "w.ft"), True)
    with pytest.raises(ValueError):
        iter(w)


@pytest.mark.parametrize("name", ["gen_v5_n3000_z9.ft", "gen_v5_n200_be_z0.ft", "nf5_cap_be.ft",
                                  "gen_v1_n200_z0.ft", "gen_v7_n200_z6.ft",
                                  "gen_v8.1_n200_z6.ft", "gen_v1005_n200_z6.ft"])
def test_to_numpy_equals_flow_objects(flowtools_dir, name):
    np = pytest.importorskip("numpy")
    path = str(flowtools_dir / name)
    fs = flowtools.FlowSet(path)
    arr = fs.to_numpy()
    flows = list(flowtools.FlowSet(path))
    assert len(arr) == len(flows) > 0
    assert list(fs) == []  # to_numpy() took the remaining records
    assert arr.dtype["dOctets"] == np.dtype("u4")  # native order, whatever the file's
    if "srcport" in arr.dtype.names:
        assert arr.dtype["srcport"] == np.dtype("u2")
    for field in arr.dtype.names:
        assert [getattr(f, field) for f in flows] == arr[field].tolist(), field
