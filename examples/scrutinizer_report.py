#!/usr/bin/env python3
"""A Scrutinizer report_api call against flowscope, written the way Plixer's API examples call
Scrutinizer: one POST form to /fcgi/scrut_fcgi.fcgi with rm=report_api, action=get, rpt_json,
data_requested and authToken. Only the standard library (urllib). Prints the table of the top
host pairs (docs/http.md "Scrutinizer").

    examples/scrutinizer_report.py --url http://127.0.0.1:9641 --token fst_... \
        [--report host2host] [--direction inbound] [--range LastHour] [--ip-group 16800023] [-n 10]

Exit status: 0 with a table, 1 when the server answers {"err": ...} (printed on stderr).
"""
import argparse
import json
import sys
import urllib.parse
import urllib.request


def report(url, token, report_type, direction, date_range, rows, ip_group=None, start=None,
           end=None):
    filters = {"sdfDips_0": "in_GROUP_ALL"}
    if ip_group:
        filters["sdfIPGroups_0"] = "in_%s_both" % ip_group
    times = {"dateRange": date_range, "clientTimezone": "UTC"}
    if date_range == "Custom":
        times.update({"start": str(start), "end": str(end)})
    rpt_json = {
        "reportTypeLang": report_type,
        "reportDirections": {"selected": direction},
        "times": times,
        "orderBy": "sum_octetdeltacount",
        "filters": filters,
        "dataGranularity": {"selected": "auto"},
        "rateTotal": {"selected": "total"},
        "bbp": {"selected": "bytes"},
    }
    data_requested = {
        direction: {"graph": "pie", "table": {"query_limit": {"offset": 0, "max_num_rows": rows}}}
    }
    form = urllib.parse.urlencode({
        "rm": "report_api",
        "action": "get",
        "rpt_json": json.dumps(rpt_json),
        "data_requested": json.dumps(data_requested),
        "authToken": token,
    }).encode()
    request = urllib.request.Request(url.rstrip("/") + "/fcgi/scrut_fcgi.fcgi", data=form,
                                     method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="http(s)://host:port of flowscope's [http]")
    p.add_argument("--token", required=True, help="an API token (flowscope user token add)")
    p.add_argument("--report", default="host2host")
    p.add_argument("--direction", default="inbound", choices=["inbound", "outbound"])
    p.add_argument("--range", default="LastHour", help="a dateRange preset, or Custom")
    p.add_argument("--start", type=int, help="Custom: start, epoch seconds")
    p.add_argument("--end", type=int, help="Custom: end, epoch seconds")
    p.add_argument("--ip-group", help="only sessions of this IP group id")
    p.add_argument("-n", type=int, default=10, help="rows")
    args = p.parse_args()
    answer = report(args.url, args.token, args.report, args.direction, args.range, args.n,
                    args.ip_group, args.start, args.end)
    if "err" in answer:
        print("error: %s (%s)" % (answer["err"], answer.get("details", "")), file=sys.stderr)
        return 1
    table = answer["report"]["table"][args.direction]
    names = [c["label"] if c["key"] == "rank" else c["key"] for c in table["columns"]]
    rows = [[cell.get("formatted", cell["label"]) for cell in row] for row in table["rows"]]
    widths = [max([len(n)] + [len(str(r[i])) for r in rows]) for i, n in enumerate(names)]
    print("  ".join(n.ljust(w) for n, w in zip(names, widths)))
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)))
    granularity = answer["report_object"]["dataGranularity"]
    print("%d of %d rows; answered from %s" % (len(rows), table["total_rows"],
                                               granularity.get("source", "?")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
