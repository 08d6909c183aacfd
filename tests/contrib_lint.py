#!/usr/bin/python3
"""Checks contrib/ against the daemon: every metric that the alerting rules and the Grafana
dashboard query is a family qmail-maintd writes (a "qmail_..." string in lib/*.c or daemon/*.c),
every alert has a severity, a summary and a description and is unit-tested both firing and
quiet, the dashboard is JSON whose every query uses the datasource variable.
Usage: contrib_lint.py TOP DASHBOARD_EXPRS_OUT
Writes the dashboard's queries as recording rules to DASHBOARD_EXPRS_OUT for promtool's parser."""
import glob
import json
import re
import sys

import yaml

top, exprs_out = sys.argv[1], sys.argv[2]
errors = []


def err(msg):
    errors.append(msg)


STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
LABELS = re.compile(r'\{\s*((?:"[a-z_][a-z0-9_]*"|NULL)(?:\s*,\s*(?:"[a-z_][a-z0-9_]*"|NULL))*)\s*,?\s*\}')
# labels every series gets from the scrape (node_exporter's target), not from qmail-maintd
SCRAPE_LABELS = {"instance", "job"}


def entry_labels(src, pos):
    """The label names of the struct metric_family initialiser whose name ends at pos:
    the first brace group of strings and NULLs before the entry's closing brace."""
    depth, i, body = 0, pos, []
    while i < len(src):
        c = src[i]
        if c == '"':
            m = STRING.match(src, i)
            body.append(src[i:m.end()] if m else c)
            i = m.end() if m else i + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                break
            depth -= 1
        body.append(c)
        i += 1
    m = LABELS.search("".join(body))
    return set(re.findall(r'"([a-z_][a-z0-9_]*)"', m.group(1))) if m else set()


families = {}	# name: its label names
for path in glob.glob(f"{top}/lib/*.c") + glob.glob(f"{top}/daemon/*.c"):
    with open(path, encoding="utf-8", errors="replace") as f:
        src = f.read()
    for m in re.finditer(r'"(qmail_[a-z0-9_]+)"', src):
        families.setdefault(m.group(1), set()).update(entry_labels(src, m.end()))
if not families:
    sys.exit("contrib_lint: no \"qmail_...\" metric family names in lib/*.c or daemon/*.c")

# the families operators can look up: qmail-maintd(8), MONITORING
with open(f"{top}/docs/qmail-maintd.8", encoding="utf-8", errors="replace") as f:
    man = f.read()
m = re.search(r"^\.SH MONITORING\n(.*?)^\.SH ", man, re.S | re.M)
documented = set(re.findall(r"qmail_[a-z0-9_]+", m.group(1) if m else ""))
kit_families = set()

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan", "start", "end"}
TOKEN = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:ms|[smhdwy])*|[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr):
    """The metric names a PromQL expression selects (Grafana variables removed first)."""
    e = re.sub(r"\$\{?\w+(?::\w+)?\}?", "", expr)
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', e)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = []
    for m in TOKEN.finditer(e):
        word = m.group(0)
        if word[0].isdigit() or word in KEYWORDS or re.match(r"\s*\(", e[m.end():]):
            continue
        names.append(word)
    return names


def label_names(expr):
    """The label names an expression matches on or groups by: (name or None, label)."""
    e = re.sub(r"\$\{?\w+(?::\w+)?\}?", "", expr)
    out = []
    for m in re.finditer(r"([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}", e):
        inner = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', m.group(2))
        for lm in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", inner):
            out.append((m.group(1), lm.group(1)))
    for m in re.finditer(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", e):
        out += [(None, n) for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", m.group(1))]
    return out


def check_expr(where, expr, used=()):
    """expr names only qmail-maintd's families and their labels; so do the labels in used
    (a legend's {{label}}, an alert's $labels.label)."""
    names = metric_names(expr)
    if not any(n.startswith("qmail_") for n in names):
        err(f"{where}: no qmail-maintd metric in: {expr}")
    known = set(SCRAPE_LABELS)
    for n in names:
        if n not in families:
            err(f"{where}: {n} is not a metric family qmail-maintd writes (lib/*.c, daemon/*.c): {expr}")
        else:
            known |= families[n]
            kit_families.add(n)
    for name, label in label_names(expr):
        if label == "__name__":
            continue
        allowed = families[name] | SCRAPE_LABELS if name in families else known
        if label not in allowed:
            err(f"{where}: label {label} is not one of {name or 'its metrics'}: {sorted(allowed)}: {expr}")
    for label in used:
        if label not in known:
            err(f"{where}: label {label} is not one of its metrics': {sorted(known)}: {expr}")


# -- the alerting rules and their unit tests --------------------------------------------------
rules_path = f"{top}/contrib/prometheus/qmail-maintd.rules.yml"
tests_path = f"{top}/contrib/prometheus/qmail-maintd.rules.test.yml"
with open(rules_path) as f:
    rules = yaml.safe_load(f)
with open(tests_path) as f:
    tests = yaml.safe_load(f)
firing, quiet = set(), set()
for group in tests.get("tests", []):
    for t in group.get("alert_rule_test", []) or []:
        (firing if t.get("exp_alerts") else quiet).add(t["alertname"])
alerts = []
for group in rules["groups"]:
    for r in group["rules"]:
        name = r.get("alert") or r.get("record")
        used = set()
        for text in list(r.get("annotations", {}).values()) + list(r.get("labels", {}).values()):
            used |= set(re.findall(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)", str(text)))
        check_expr(f"rule {name}", str(r["expr"]), used)
        if "alert" not in r:
            continue
        alerts.append(name)
        if r.get("labels", {}).get("severity") not in ("critical", "warning"):
            err(f"alert {name}: severity label is not critical or warning")
        for a in ("summary", "description"):
            if "{{ $labels.instance }}" not in r.get("annotations", {}).get(a, "") and \
                    name != "QmailMaintdMetricsMissing":
                err(f"alert {name}: annotation {a} does not name {{{{ $labels.instance }}}}")
        if name not in firing:
            err(f"alert {name}: no test in {tests_path} where it fires")
        if name not in quiet:
            err(f"alert {name}: no test in {tests_path} where it stays quiet")
for name in (firing | quiet) - set(alerts):
    err(f"{tests_path}: tests an alert the rules do not have: {name}")

# -- the dashboard ----------------------------------------------------------------------------
dash_path = f"{top}/contrib/grafana/qmail-maintd.json"
with open(dash_path) as f:
    dash = json.load(f)
DS = "${datasource}"
variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
ds = variables.get("datasource")
if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
    err(f"{dash_path}: no template variable 'datasource' of type datasource for prometheus")
for v in variables.values():
    if v.get("type") != "query":
        continue
    q = v.get("query")
    q = q.get("query", "") if isinstance(q, dict) else q or ""
    m = re.fullmatch(r"\s*label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*(?:\{[^}]*\})?\s*,\s*\w+\s*\)\s*", q)
    if m:
        check_expr(f"variable {v['name']}", m.group(1))
    else:
        check_expr(f"variable {v['name']}", q)
    if (v.get("datasource") or {}).get("uid") != DS:
        err(f"variable {v['name']}: datasource is not {DS}")


def all_panels(panels):
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


recording = []
titles = []
for p in all_panels(dash.get("panels", [])):
    if p.get("type") == "row":
        continue
    titles.append(p.get("title", ""))
    if (p.get("datasource") or {}).get("uid") != DS:
        err(f"panel {p.get('title')!r}: datasource is not {DS}")
    if not p.get("targets"):
        err(f"panel {p.get('title')!r}: no queries")
    for t in p.get("targets", []):
        where = f"panel {p.get('title')!r} query {t.get('refId')}"
        if (t.get("datasource") or {}).get("uid", DS) != DS:
            err(f"{where}: datasource is not {DS}")
        check_expr(where, t.get("expr", ""),
                   re.findall(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", t.get("legendFormat", "")))
        recording.append({"record": f"dashboard:panel{p.get('id')}:{t.get('refId')}",
                          "expr": re.sub(r"\$\{?instance\}?", ".*", t.get("expr", ""))})
# panels with unique ids, inside the 24 columns, not on top of each other
boxes = {}
for p in all_panels(dash.get("panels", [])):
    g, pid = p.get("gridPos", {}), p.get("id")
    if pid in boxes:
        err(f"{dash_path}: panel id {pid} twice")
    if not all(isinstance(g.get(k), int) for k in "xywh") or g["x"] < 0 or g["x"] + g["w"] > 24:
        err(f"panel {p.get('title')!r}: gridPos {g} is not inside the 24 columns")
        continue
    for other, o in boxes.items():
        if g["x"] < o["x"] + o["w"] and o["x"] < g["x"] + g["w"] and \
                g["y"] < o["y"] + o["h"] and o["y"] < g["y"] + g["h"]:
            err(f"panel {p.get('title')!r}: overlaps panel id {other}")
    boxes[pid] = g
# what the issue asks the dashboard to show
for want in ("Queue size", "Oldest queued message", "Findings per check", "Certificate expiry",
             "Crashes per hour", "Services up", "Active findings by event",
             "Pending recipients by destination", "qmail-send running"):
    if want not in titles:
        err(f"{dash_path}: no panel {want!r}")
with open(exprs_out, "w") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recording}]}, f)

for n in sorted(kit_families - documented):
    err(f"{n}: used by contrib/ but not listed in qmail-maintd(8), MONITORING")

for e in errors:
    print(f"contrib_lint: {e}", file=sys.stderr)
print(f"contrib_lint: {len(alerts)} alerts, {len(recording)} dashboard queries, "
      f"{len(families)} metric families known; {len(errors)} problems")
sys.exit(1 if errors else 0)
