"""flowscope for Python: stores, servers, the field registry, pcaps.

    import flowscope
    store = flowscope.open("/var/lib/flowscope")
    rows = store.query("PROTO == tcp", time="1h", fields=["start_time", "cln_addr", "cln_bytes"])
    df = rows.to_pandas()
    top = store.stat(group="host", count="bytes", top=10).to_pandas()

See docs/python.md for every function and its arguments.
"""

import json as _json

from flowscope import _native

__all__ = ["open", "connect", "fields", "decode", "capture", "Query", "Stat"]

# The UDP ports `flowscope decode` listens to by default (NetFlow, IPFIX, sFlow).
DEFAULT_FLOW_PORTS = (2055, 9995, 9996, 4739, 6343)


def fields(kind="session"):
    """The registry's fields of `kind` ("session" or "flow"), as dicts with the keys name,
    filter, type, dtype (NumPy), unit, kind, definition and description."""
    return _native.fields(kind)


class Query:
    """Rows of a query: iterate for dicts, or take them whole as NumPy or pandas."""

    def __init__(self, result):
        self._result = result

    @property
    def fields(self):
        return list(self._result.fields)

    def __len__(self):
        return len(self._result)

    def __getitem__(self, index):
        return self._result[index]

    def __iter__(self):
        for i in range(len(self._result)):
            yield self._result[i]

    def columns(self):
        """{field: 1-D NumPy array}; numeric and time columns are read-only views of the
        result's memory (no copy)."""
        return self._result.columns()

    def to_numpy(self):
        """One structured array, a column per field, dtypes from the registry."""
        return self._result.to_numpy()

    def to_pandas(self):
        """A pandas DataFrame, a column per field (needs python3-pandas)."""
        import pandas

        cols = self._result.columns()
        return pandas.DataFrame({name: cols[name] for name in self.fields})


class Stat:
    """A ranked statistic: rows (rank, group keys, value, sessions, bytes, packets), the
    `others` row and the `total` row, as `flowscope stat --json` prints them."""

    def __init__(self, text):
        self.rows, self.others, self.total = [], None, None
        for line in text.splitlines():
            if not line.strip():
                continue
            obj = _json.loads(line)
            if obj.pop("others", False):
                self.others = obj
            elif obj.pop("total", False):
                self.total = obj
            else:
                self.rows.append(obj)

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def to_pandas(self):
        import pandas

        return pandas.DataFrame(self.rows)


class Store:
    """A local store (open) or a server (connect); both answer query() and stat()."""

    def __init__(self, native):
        self._native = native

    @property
    def user(self):
        """The logged-in user on a server; None for a local store."""
        return self._native.user

    @property
    def key(self):
        """The session key the server gave (connect(..., want_key=True)); else ""."""
        return self._native.key

    def query(self, filter="", time=None, fields=None, limit=0):  # noqa: A002
        """Sessions matching the FlowTraq `filter` in `time` ("1h", "today", "all", None
        for all, or (begin_ms, end_ms)); `fields` are registry names or filter keywords
        (default: `flowscope query`'s columns)."""
        return Query(self._native.query(filter, time, fields, limit))

    def stat(self, group="", count="bytes", top=10, direction="both", time=None,
             filter="", series=None):  # noqa: A002
        """`flowscope stat`: group ("host", "pair", "srvport", "host/24", ...), count
        ("bytes", "packets", "sessions", "uports", "unique:FIELD"), direction ("both",
        "send", "receive"), series a bucket size ("5m") for a time series per row."""
        return Stat(self._native.stat(group, count, top, direction, time, filter, series))


def open(path):  # noqa: A001 - flowscope.open reads as intended
    """Opens the store in data directory `path` read-only."""
    return Store(_native._open(str(path)))


def connect(host, user="", password="", key="", want_key=False, tls=False, tls_ca="",
            tls_insecure=False):
    """Connects to `flowscope serve` at host[:port] and logs in with user and password or a
    session key, as `flowscope query -srv` does."""
    return Store(_native._connect(host, user, password, key, want_key, tls, tls_ca,
                                  tls_insecure))


def decode(pcap, ports=DEFAULT_FLOW_PORTS):
    """The flow records (dicts of flow fields) of the NetFlow/IPFIX/sFlow datagrams in `pcap`
    sent to or from `ports`."""
    return _native._decode(str(pcap), list(ports))


def capture(pcap):
    """Sessions metered from the packets in `pcap`, as `flowscope capture -r` makes them."""
    return Query(_native._capture(str(pcap)))
