"""Traces this script's own writes while a block runs.

Start a tracer first:  sudo write-tracer --rest-port 9092
Then:                  python3 example.py   (the tracer prints the 'inside' lines, not the 'outside' one)
"""

import os
import subprocess

from writetracer import WriteTracer

tracer = WriteTracer("http://127.0.0.1:9092")
with tracer.tracing() as registration:
    print(registration["message"], flush=True)
    os.write(1, b"inside: traced\n")
    subprocess.run(["echo", "inside: a child is traced too"], check=True)
    print("registered now:", [p["pid"] for p in tracer.list()], flush=True)
os.write(1, b"outside: not traced\n")
