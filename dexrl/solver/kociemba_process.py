"""kociemba in a child process, so that a search can be stopped at a deadline.

Why a process: `kociemba.solve(facelets, max_depth=d)` is one C call with no way to stop it
(its own time-out is fixed at 1000 s), and near the optimal length it can run for minutes
(the fair scramble takes 42 s at d = 19: docs/references.md "Solver timings"). A thread cannot
be stopped either and would keep a core busy after the budget. A child process can be killed:
the planner's budget is then a hard limit, whatever kociemba does. The child is cheap to replace
(Python, kociemba and its 4 MB of tables load in about 25 ms), so killing one costs little.

While the child searches, the caller only waits on a pipe: one core works at a time. A killed
child is not waited for (it is reaped later) and its replacement starts with the next call,
so the deadline is kept to within a few milliseconds.

Protocol, one line each way: the child first says "READY\\n" (tables loaded), then answers
"<54 facelets> <max_depth>\\n" with "OK <moves>\\n" or "NONE <kociemba's message>\\n" (no
solution within max_depth, or a cube kociemba rejects).

Run as a script (`python kociemba_process.py <parent pid>`) this file is the child: it imports
only the standard library and kociemba, not dexrl (whose package import pulls in MuJoCo).
POSIX only (select on pipes, SIGKILL), like the rest of dexrl.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time


class SearchTimeout(TimeoutError):
    """The deadline passed before kociemba answered (the child was killed)."""


class KociembaProcess:
    """A child process that runs kociemba on request; killed and replaced when too slow.

    Use as a context manager or call `close()`; the child also exits when this process dies
    (Linux: PR_SET_PDEATHSIG) or closes the pipe.
    """

    def __init__(self, clock: str = "wall") -> None:
        """`clock`: "wall" (deadlines in wall seconds) or "cpu" (CPU seconds of this process
        plus its kociemba children: measurements that do not depend on a shared machine's load;
        Linux only)."""
        if clock not in ("wall", "cpu"):
            raise ValueError(f"clock must be 'wall' or 'cpu' (got {clock!r})")
        if clock == "cpu" and not os.path.exists(f"/proc/{os.getpid()}/stat"):
            raise ValueError("the cpu clock reads /proc/<pid>/stat, which this system lacks")
        self.clock = clock
        self._child: subprocess.Popen[bytes] | None = None
        self._killed: list[subprocess.Popen[bytes]] = []  # reaped later, off the deadline
        self._killed_cpu_s = 0.0  # CPU seconds of the children killed so far
        self._ready = False  # the child has loaded kociemba and said READY
        self.kills = 0
        """How many children were killed at a deadline (for reports and tests)."""

    def now(self) -> float:
        """Seconds on this process's clock (only differences mean anything)."""
        if self.clock == "wall":
            return time.monotonic()
        child = 0.0 if self._child is None else _cpu_seconds(self._child.pid)
        return time.process_time() + self._killed_cpu_s + child

    def start(self, wait: bool = False) -> None:
        """Start a child now if none is running; it loads kociemba while the caller goes on,
        or, with `wait`, until it is ready (at most 30 s)."""
        self._reap()
        if self._child is None or self._child.poll() is not None:
            self._child = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,
                close_fds=True,
            )
            self._ready = False
        if wait and not self._ready:
            assert self._child is not None
            self._ready = self._read_line(self._child, self.now() + 30.0) == "READY"

    def solve(
        self, facelets: str, max_depth: int, deadline: float, limit_s: float | None = None
    ) -> str | None:
        """kociemba's answer (move text), or None when it has none within `max_depth`.

        Args:
            facelets: a valid standard-coloured cube (kociemba's input format).
            max_depth: longest solution to accept (face turns).
            deadline: `now()` value by which the answer must be in.
            limit_s: at most this long for this call, counted once the child is ready (a new
                child first loads kociemba's tables, which is not the search's time).

        Raises:
            SearchTimeout: the deadline or the limit passed; the child is killed.
        """
        if self.now() >= deadline:
            raise SearchTimeout("the deadline has passed")
        self.start()
        child = self._child
        assert child is not None and child.stdin is not None
        try:
            if not self._ready:
                self._ready = self._read_line(child, deadline) == "READY"
            if limit_s is not None:
                deadline = min(deadline, self.now() + limit_s)
            child.stdin.write(f"{facelets} {max_depth}\n".encode())
            line = self._read_line(child, deadline)
        except (BrokenPipeError, EOFError):  # the child died (e.g. killed from outside)
            self._kill()
            raise SearchTimeout("the kociemba child process died") from None
        status, _, text = line.partition(" ")
        return text if status == "OK" else None

    def _read_line(self, child: subprocess.Popen[bytes], deadline: float) -> str:
        assert child.stdout is not None
        data = b""
        fd = child.stdout.fileno()
        while not data.endswith(b"\n"):
            wait = deadline - self.now()
            if wait <= 0:
                self._kill()  # no wait for it to go, no replacement yet: the deadline is now
                self.kills += 1
                raise SearchTimeout("no answer within the deadline (the search was killed)")
            # CPU time never runs faster than wall time: waiting `wait` cannot overshoot.
            if select.select([fd], [], [], max(wait, 0.002))[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise EOFError
                data += chunk
        return data.decode().strip()

    def _kill(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            if self.clock == "cpu":
                self._killed_cpu_s += _cpu_seconds(child.pid)
            child.kill()
            for pipe in (child.stdin, child.stdout):
                if pipe is not None:
                    pipe.close()
            self._killed.append(child)

    def _reap(self) -> None:
        self._killed = [c for c in self._killed if c.poll() is None]

    def close(self) -> None:
        """Stop the child and wait for every killed one (idempotent)."""
        self._kill()
        for child in self._killed:
            child.wait()
        self._killed = []

    def __enter__(self) -> KociembaProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: best effort
            pass


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc; 0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _die_with_parent(parent: int) -> None:
    """Exit when the parent does: its death must not leave a search running for minutes."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG (Linux)
    except (AttributeError, OSError):  # not Linux: the closed pipe still ends the loop
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        sys.exit(0)


def _serve() -> None:
    """The child: load kociemba's tables, say READY, answer one line at a time until EOF."""
    import kociemba

    kociemba.solve("UUUUUUUUURRRRRRRRRFFFFFFFFFDDDDDDDDDLLLLLLLLLBBBBBBBBB")  # loads the tables
    sys.stdout.write("READY\n")
    sys.stdout.flush()

    while True:
        line = sys.stdin.readline()
        if not line:
            return
        facelets, depth = line.split()
        try:
            answer = "OK " + kociemba.solve(facelets, max_depth=int(depth))
        except ValueError as error:  # kociemba: no solution within max_depth, or bad cube
            answer = f"NONE {error}"
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.path.pop(0)  # this file's folder: its modules must not shadow anything
    _die_with_parent(int(sys.argv[1]))
    _serve()
