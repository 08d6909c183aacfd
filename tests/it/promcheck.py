"""Validates a Prometheus text exposition file with prometheus_client's parser
(Debian's python3-prometheus-client); prints "name{labels} value" per sample.
Usage: promcheck.py FILE"""
import sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read()
if not text.endswith("\n"):
    sys.exit("no final newline")
for family in text_string_to_metric_families(text):
    if family.type == "unknown" or not family.documentation:
        sys.exit("family %s without TYPE or HELP" % family.name)
    for s in family.samples:
        labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
        print("%s{%s} %g" % (s.name, labels, s.value))
