"""pyflowtools-compatible access to flow-tools files and NetFlow PDUs, on flowscope.

Existing pyflowtools scripts run unchanged on Python 3::

    import flowtools
    for flow in flowtools.FlowSet("capture.ft"):
        print(flow.srcaddr, flow.dstaddr, flow.dOctets)

See docs/python.md. The implementation is flowscope's (one native extension,
flowscope._native); nothing of flow-tools' C library is used.
"""

from flowscope._native import flowtools as _native

Error = _native.Error
IOError = _native.IOError  # noqa: A001 - pyflowtools' name
AttributeError = _native.AttributeError  # noqa: A001 - pyflowtools' name
FlowSet = _native.FlowSet
FlowPDU = _native.FlowPDU
Flow = _native.Flow
# Extensions: NetFlow v9/IPFIX templates shared by FlowPDUs (docs/python.md "v9 and IPFIX").
TemplateCache = _native.TemplateCache
default_template_cache = _native.default_template_cache

__all__ = ["Error", "IOError", "AttributeError", "FlowSet", "FlowPDU", "Flow", "TemplateCache",
           "default_template_cache"]
