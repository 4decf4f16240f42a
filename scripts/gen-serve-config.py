#!/usr/bin/env python3
"""Writes serve.toml (the packaged configuration: every key, commented, with its default and
meaning) and flowscope-serve.toml(5) from one source: the key table of docs/serve.md
("Configuration"). Run by the build (packaging/CMakeLists.txt):

    gen-serve-config.py docs/serve.md --toml OUT.toml --man OUT.5 --version V

Keys set for the Debian service (its data and log directories) are written uncommented.
"""

import argparse
import re
import sys

# Values the packaged service sets (the unit's StateDirectory= and LogsDirectory=, debian/flowscope.postinst).
PACKAGE_VALUES = {
    ("store", "dir"): '"/var/lib/flowscope"',
    ("auth", "audit_log"): '"/var/log/flowscope/audit.log"',
}
EMPTY = '""'
# Examples for keys whose default is prose (no literal to show).
PLACEHOLDERS = {
    "start_at": '"2026-11-24T18:00:00Z"',
    "geoip_city": '"/var/lib/GeoIP/GeoLite2-City.mmdb"',
    "geoip_asn": '"/var/lib/GeoIP/GeoLite2-ASN.mmdb"',
    "ip_groups": '"/etc/flowscope/ipgroups.toml"',
    "services": '"/usr/share/flowscope/services.tsv"',
    "dns_servers": '["192.0.2.53:53"]',
    "snmp_targets": '["192.0.2.1"]',
    "tls_cert": '"/etc/flowscope/tls/cert.pem"',
    "tls_key": '"/etc/flowscope/tls/key.pem"',
    "allow_file": '"/etc/flowscope/auth_ips.cfg"',
    "users": '"/var/lib/flowscope/users.json"',
}
SECTION_ORDER = ["", "ingest", "stitch", "enrich", "store", "query", "http", "auth"]


def split_top(text):
    """Splits `a`, `b` / 5, "5m", "5m" at commas outside quotes and brackets."""
    parts, depth, quote, cur = [], 0, False, ""
    for c in text:
        if c == '"':
            quote = not quote
        elif not quote and c in "[(":
            depth += 1
        elif not quote and c in "])":
            depth -= 1
        if c == "," and depth == 0 and not quote:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        parts.append(cur.strip())
    return parts


def literal(cell):
    """A TOML literal from a default cell, or None when the cell is prose (`-`, `required`)."""
    m = re.match(r"\s*`([^`]*)`", cell)  # `[]` (all): the code part is the value
    v = m.group(1).strip() if m else cell.strip()
    if re.fullmatch(r'-?\d+|true|false|"[^"]*"|\[.*\]', v):
        return v
    return None


def read_keys(markdown):
    rows, in_table = [], False
    for line in markdown.splitlines():
        if line.startswith("| key | default | meaning |"):
            in_table = True
            continue
        if in_table:
            if not line.startswith("|"):
                if rows:
                    break
                continue
            if line.startswith("|---"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if len(cells) != 3:
                sys.exit(f"gen-serve-config: cannot read table row: {line}")
            key_cell, default_cell, meaning = cells
            m = re.match(r"`\[(\w+)\] ([^`]*)`(.*)", key_cell)
            section = m.group(1) if m else ""
            names_text = (m.group(2) + m.group(3)) if m else key_cell
            names = [n.strip().strip("`") for n in names_text.split(",")]
            defaults = split_top(default_cell)
            if len(defaults) != len(names):
                defaults = [default_cell] * len(names)
            for name, default in zip(names, defaults):
                rows.append((section, name, default, meaning))
    if not rows:
        sys.exit("gen-serve-config: no key table found")
    return rows


def plain(md):
    return md.replace("`", "")


def write_toml(rows, out):
    out.write("# /etc/flowscope/serve.toml: the configuration of flowscope serve (the flowscope\n"
              "# service). Every key is listed with its default; uncomment to change it.\n"
              "# Reference: man 5 flowscope-serve.toml, /usr/share/doc/flowscope/serve.md.\n"
              "# Check an edit with: flowscope serve -C /etc/flowscope/serve.toml --check\n"
              "# Apply it with:      systemctl reload flowscope  (SIGHUP; listeners, workers and\n"
              "#                     [store] dir need systemctl restart flowscope)\n")
    for section in SECTION_ORDER:
        keys = [r for r in rows if r[0] == section]
        if not keys:
            continue
        if section:
            out.write(f"\n[{section}]\n")
        else:
            out.write("\n")
        for _, name, default, meaning in keys:
            shown = "none" if default.strip() == "-" else plain(default)
            for line in wrap("# " + plain(meaning) + f" (default: {shown})", 98, "# "):
                out.write(line + "\n")
            value = PACKAGE_VALUES.get((section, name))
            if value is not None:
                out.write(f"{name} = {value}\n")
            else:
                lit = literal(default)
                if lit is None:
                    lit = PLACEHOLDERS.get(name, EMPTY)
                out.write(f"#{name} = {lit}\n")


def wrap(text, width, indent):
    words, lines, cur = text.split(" "), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = indent + w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return lines


def roff(md):
    """Markdown inline text to roff: `code` in bold, hyphens escaped, backslashes escaped."""
    text = md.replace("\\", "\\e")
    parts = text.split("`")
    out = ""
    for i, p in enumerate(parts):
        p = p.replace("-", "\\-")
        out += f"\\fB{p}\\fR" if i % 2 else p
    out = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in out)
    if out.startswith(".") or out.startswith("'"):
        out = "\\&" + out
    return out


def write_man(rows, out, version):
    out.write('.\\" generated by scripts/gen-serve-config.py from docs/serve.md; do not edit\n')
    out.write(f'.TH FLOWSCOPE-SERVE.TOML 5 "" "flowscope {version}" "flowscope manual"\n')
    out.write(".SH NAME\nflowscope\\-serve.toml \\- configuration of flowscope serve\n")
    out.write(".SH SYNOPSIS\n/etc/flowscope/serve.toml\n")
    out.write(".SH DESCRIPTION\n"
              "\\fBflowscope serve \\-c\\fR \\fIFILE\\fR reads a TOML file: top-level keys, then "
              "one table per part of the pipeline. An unknown key, a value of the wrong type or "
              "out of range stops the server with the file, line and fix; "
              "\\fBflowscope serve \\-c\\fR \\fIFILE\\fR \\fB\\-\\-check\\fR validates a file "
              "without starting. Relative paths are relative to the file's directory. Durations "
              "are written \\fB\"90s\"\\fR, \\fB\"30m\"\\fR, \\fB\"12h\"\\fR, \\fB\"7d\"\\fR.\n"
              ".PP\nSIGHUP (\\fBsystemctl reload flowscope\\fR) re-reads the file: enrichment "
              "files, users, allow-lists, TLS files, the stitch window and the log level change "
              "in place; listeners, workers and \\fB[store] dir\\fR need a restart. A file that "
              "does not validate is refused and the running configuration stays.\n")
    out.write(".SH KEYS\n")
    for section in SECTION_ORDER:
        keys = [r for r in rows if r[0] == section]
        if not keys:
            continue
        out.write(f'.SS "{"[" + section + "]" if section else "top level"}"\n')
        for _, name, default, meaning in keys:
            shown = "none" if default.strip() == "-" else roff(default)
            out.write(f".TP\n\\fB{roff(name)}\\fR (default: {shown})\n{roff(meaning)}\n")
    out.write(".SH EXAMPLES\n.nf\n"
              "[ingest]\nlisten = [\"0.0.0.0\", \"::\"]\n[stitch]\nwindow = \"60s\"\n"
              "[store]\ndir = \"/var/lib/flowscope\"\n[query]\nlisten = \"0.0.0.0\"\n"
              "allow = [\"10.0.0.0/8\"]\ntls_cert = \"/etc/flowscope/tls/cert.pem\"\n"
              "tls_key = \"/etc/flowscope/tls/key.pem\"\ntls_required = true\n.fi\n")
    out.write(".SH FILES\n.TP\n/etc/flowscope/serve.toml\nthe packaged service's file, every key "
              "listed and commented.\n.TP\n/usr/share/doc/flowscope/examples/serve.toml\nthe "
              "same, as shipped.\n")
    out.write(".SH SEE ALSO\n\\fBflowscope\\fR(1), \\fBflowscope\\-serve\\fR(1), "
              "\\fBflowscope\\-user\\fR(1), \\fBsystemd.service\\fR(5)\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("serve_md")
    ap.add_argument("--toml")
    ap.add_argument("--man")
    ap.add_argument("--version", default="")
    a = ap.parse_args()
    with open(a.serve_md, encoding="utf-8") as f:
        rows = read_keys(f.read())
    if a.toml:
        with open(a.toml, "w", encoding="utf-8") as f:
            write_toml(rows, f)
    if a.man:
        with open(a.man, "w", encoding="utf-8") as f:
            write_man(rows, f, a.version)


if __name__ == "__main__":
    main()
