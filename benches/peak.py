"""Runs a command and samples its peak anonymous memory (RssAnon in
/proc/PID/status: the heap, not the pages of memory-mapped files), of the
process alone or, with `tree=True`, of it and every process it started (a
Spark job's JVM)."""
import os
import subprocess
import sys
import threading
import time


def rss_anon(pid):
    """RssAnon of a process, KiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid):
    """`pid` and every live process under it."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def run(cmd, tree=False, env=None):
    """Returns (wall seconds, peak RssAnon in MiB); exits if `cmd` fails."""
    peak = [0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    done = threading.Event()

    def sample():
        while not done.is_set():
            pids = descendants(proc.pid) if tree else [proc.pid]
            peak[0] = max(peak[0], sum(rss_anon(p) for p in pids))
            time.sleep(0.2 if tree else 0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    code = proc.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if code != 0:
        sys.exit(f"{cmd[0]} failed with exit code {code}")
    return wall, peak[0] / 1024
