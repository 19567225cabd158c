#!/usr/bin/python3
"""peak_rss.py CMD [ARGS...]: run CMD with stdout thrown away, pass its
stderr through, and print on stdout `status=S peak_rss_kib=N`: its exit
status and its peak resident set (getrusage RUSAGE_CHILDREN, ru_maxrss).
Runs where CMD runs (natively or inside a kernel VM), for the tests that
bound kvmtrace's memory."""
import resource
import subprocess
import sys

r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stderr.write(r.stderr.decode(errors="replace"))
print(f"status={r.returncode} "
      f"peak_rss_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
