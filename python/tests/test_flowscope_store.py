"""flowscope.open/query/stat/fields on a store the test builds with `flowscope import`, and
`flowscope export --format flow-tools` read back through flowtools."""

import subprocess

import pytest

import flowscope
import flowtools


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory, flowtools_dir, flowscope_bin):
    d = tmp_path_factory.mktemp("store") / "data"
    subprocess.run([flowscope_bin, "import", "-d", str(d), str(flowtools_dir / "nf5_cap.ft"),
                    str(flowtools_dir / "gen_v5_n3000_z0.ft")], check=True, capture_output=True)
    return d


def test_fields_come_from_the_registry(flowscope_bin):
    import json
    fields = flowscope.fields()
    cli = json.loads(subprocess.run([flowscope_bin, "fields", "--json", "--kind", "session"],
                                    check=True, capture_output=True, text=True).stdout)
    assert [f["name"] for f in fields] == [f["name"] for f in cli]
    by_name = {f["name"]: f for f in fields}
    assert by_name["cln_bytes"]["dtype"] == "u8"
    assert by_name["start_time"]["dtype"] == "M8[ms]"
    assert by_name["cln_addr"]["type"] == "ip"
    with pytest.raises(ValueError, match="kind"):
        flowscope.fields("nope")


def test_query_rows_numpy_pandas(store_dir, flowtools_dir):
    np = pytest.importorskip("numpy")
    store = flowscope.open(store_dir)
    q = store.query("", time="all", fields=["start_time", "cln_addr", "srv_port", "cln_bytes"])
    truth = list(flowtools.FlowSet(str(flowtools_dir / "nf5_cap.ft"))) + \
        list(flowtools.FlowSet(str(flowtools_dir / "gen_v5_n3000_z0.ft")))
    assert len(q) == len(truth) == 3061
    assert sum(r["cln_bytes"] for r in q) == sum(f.dOctets for f in truth)
    arr = q.to_numpy()
    assert arr.dtype["cln_bytes"] == np.dtype("u8")
    assert arr.dtype["start_time"] == np.dtype("M8[ms]")
    assert int(arr["cln_bytes"].sum()) == sum(f.dOctets for f in truth)
    cols = q.columns()
    assert not cols["cln_bytes"].flags.writeable  # a view of the result, not a copy
    assert sorted(cols["cln_addr"].tolist()) == sorted(f.srcaddr for f in truth)
    tcp = store.query("PROTO == tcp AND SRVPORT == 22", time="all", fields=["srv_port"])
    assert len(tcp) == sum(1 for f in truth if f.prot == 6 and f.dstport == 22) > 0
    pd = pytest.importorskip("pandas")
    df = q.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["start_time", "cln_addr", "srv_port", "cln_bytes"]
    assert str(df["start_time"].dtype) == "datetime64[ms]" or "datetime64" in str(df["start_time"].dtype)


def test_stat(store_dir, flowtools_dir):
    store = flowscope.open(store_dir)
    st = store.stat(group="srvport", count="bytes", top=3, time="all")
    truth = {}
    for f in list(flowtools.FlowSet(str(flowtools_dir / "nf5_cap.ft"))) + \
            list(flowtools.FlowSet(str(flowtools_dir / "gen_v5_n3000_z0.ft"))):
        truth[f.dstport] = truth.get(f.dstport, 0) + f.dOctets
    assert len(st) == 3
    assert [r["bytes"] for r in st] == sorted(truth.values(), reverse=True)[:3]
    assert st.total["bytes"] == sum(truth.values())


def test_bad_input_raises(store_dir, tmp_path):
    store = flowscope.open(store_dir)
    with pytest.raises(ValueError, match="unknown field"):
        store.query("SRCADR == 1.2.3.4", time="all")
    with pytest.raises(ValueError):
        store.query("", time="not a time")
    with pytest.raises(ValueError, match="direction"):
        store.stat(group="host", direction="sideways")
    with pytest.raises(OSError, match="does not exist"):
        flowscope.open(tmp_path / "nothing")


def test_export_flow_tools_reads_back(store_dir, tmp_path, flowscope_bin):
    out = tmp_path / "export.ft"
    subprocess.run([flowscope_bin, "export", "-d", str(store_dir), "--format", "flow-tools",
                    "-w", str(out), "-z", "6", "--ft-version", "7", "--byte-order", "big"],
                   check=True, capture_output=True)
    fs = flowtools.FlowSet(str(out))
    assert fs.header["version"] == "7" and fs.header["byte_order"] == "big"
    flows = list(fs)
    store = flowscope.open(store_dir)
    q = store.query("", time="all", fields=["cln_bytes", "srv_bytes", "srv_packets"])
    expected = sum(1 + int((r["srv_packets"] or 0) > 0) for r in q)
    assert len(flows) == expected == fs.header["flow_count"]
    assert sum(f.dOctets for f in flows) == sum(r["cln_bytes"] + (r["srv_bytes"] or 0) for r in q)
