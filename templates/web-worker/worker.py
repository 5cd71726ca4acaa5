"""The worker process of a tiny web + worker app for paas.

Prints a heartbeat line with the release every 5 seconds; exits cleanly on SIGTERM.
"""

import os
import signal
import threading

INTERVAL_SECONDS = 5

stopping = threading.Event()


def stop(signum, frame):
    stopping.set()


def main():
    # As PID 1 in a container, SIGTERM is ignored unless handled.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    release = os.environ.get("PAAS_RELEASE") or "unknown"
    print(f"worker started release={release}", flush=True)
    beats = 0
    while not stopping.is_set():
        beats += 1
        print(f"heartbeat {beats} release={release}", flush=True)
        stopping.wait(INTERVAL_SECONDS)
    print("worker stopping", flush=True)


if __name__ == "__main__":
    main()
