"""Runs a command and samples its peak anonymous memory (RssAnon in
/proc/PID/status: the heap, not the pages of memory-mapped files)."""
import subprocess
import sys
import threading
import time


def run(cmd):
    """Returns (wall seconds, peak RssAnon in MiB); exits if `cmd` fails."""
    peak = [0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    for line in f:
                        if line.startswith("RssAnon:"):
                            peak[0] = max(peak[0], int(line.split()[1]))
            except OSError:
                break
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    code = proc.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if code != 0:
        sys.exit(f"{cmd[0]} failed with exit code {code}")
    return wall, peak[0] / 1024
