"""A server child's output, as the tests read it: whole once the child is stopped."""

from __future__ import annotations

from devtools.process import start_server
from devtools.serve import READY_PREFIX

# Says it is ready, then on SIGTERM prints many lines at once, the pipe holding them, and exits.
CHILD = f"""
import signal, sys, time
def last_words(*_):
    sys.stdout.write("a line\\n" * 8000 + "the last line\\n")  # under a pipe's 64 KiB
    sys.exit(0)
signal.signal(signal.SIGTERM, last_words)
print("{READY_PREFIX}http://127.0.0.1:1", flush=True)
while True:
    time.sleep(1)
"""


def test_a_stopped_server_s_output_holds_what_it_printed_last() -> None:
    server = start_server(["-c", CHILD])
    server.stop()
    assert server.output[-1] == "the last line"
    assert len(server.output) == 1 + 8000 + 1
