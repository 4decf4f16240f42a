#!/usr/bin/env python3
"""pyflowtools' README example, unchanged but for print(): the busiest flows of a file."""
import sys

import flowtools

for flow in flowtools.FlowSet(sys.argv[1] if len(sys.argv) > 1 else "-"):
    if flow.dOctets > 1000:
        print("%s:%d -> %s:%d %d bytes" % (flow.srcaddr, flow.srcport, flow.dstaddr,
                                            flow.dstport, flow.dOctets))
