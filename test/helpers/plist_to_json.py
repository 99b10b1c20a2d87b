"""Loads plists with CPython's plistlib (an independent reader) and prints them as type-tagged JSON.

Usage: python3 plist_to_json.py FILE...  ->  {"FILE": <tagged value> | {"error": "..."}}
A tagged value is {"type": "dict"|"array"|"string"|"integer"|"real"|"bool"|"date"|"data", "value": ...}
(a real that is not finite as "inf", "-inf" or "nan", which JSON cannot hold).
"""
import base64, datetime, json, math, plistlib, sys

def tag(v):
    if isinstance(v, bool): return {"type": "bool", "value": v}
    if isinstance(v, int): return {"type": "integer", "value": str(v)}
    if isinstance(v, float): return {"type": "real", "value": v if math.isfinite(v) else repr(v)}
    if isinstance(v, str): return {"type": "string", "value": v}
    if isinstance(v, bytes): return {"type": "data", "value": base64.b64encode(v).decode()}
    if isinstance(v, datetime.datetime):  # strftime leaves years before 1000 unpadded
        return {"type": "date", "value": "%04d-%02d-%02dT%02d:%02d:%02dZ" % (v.year, v.month, v.day, v.hour, v.minute, v.second)}
    if isinstance(v, list): return {"type": "array", "value": [tag(x) for x in v]}
    if isinstance(v, dict):
        if not all(isinstance(k, str) for k in v): raise TypeError("a dictionary key that is not a string")
        return {"type": "dict", "value": {k: tag(x) for k, x in v.items()}}
    raise TypeError(type(v))

out = {}
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as f:
            out[path] = tag(plistlib.load(f))
    except Exception as e:  # report, do not stop: the test decides
        out[path] = {"error": f"{type(e).__name__}: {e}"}
json.dump(out, sys.stdout)
