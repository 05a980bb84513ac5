"""Running a model's code against a suite's tests, walled off from this process and the machine.

What the code gets: its own folder (the only place it can write), a clean environment, no
network (a fresh network namespace where the kernel allows one), CPU, memory, file-size and
process limits, and its own session, which is killed whole when it ends. When this process
runs as root the code runs as `nobody`, so it cannot read any process's environment; otherwise
this process is made non-dumpable first, so a child of the same user cannot read its
`/proc/PID/environ` (the API keys). This process becomes a subreaper, so a grandchild that
detaches is still found and killed when the run ends.

It fails closed: where the kernel refuses the network namespace (many containers do), the code
is not run at all and `IsolationRefused` says why, unless the operator has said the code may run
without it (COMPARE_SANDBOX_ALLOW_NETWORK=1).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

CPU_S = 10
MEMORY_BYTES = 512 * 2**20
FILE_BYTES = 16 * 2**20
PROCESSES = 16  # beyond those of its user already running
NOBODY = 65534

_PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 4, 36
ALLOW_NETWORK_ENV = "COMPARE_SANDBOX_ALLOW_NETWORK"
_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000


class IsolationRefused(RuntimeError):
    """The machine refused a step of the isolation, so the code was not run."""


def _network_optional() -> bool:
    return os.environ.get(ALLOW_NETWORK_ENV, "") not in ("", "0")


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _tasks_of(uid: int) -> int:
    """Threads of `uid` now running: RLIMIT_NPROC counts them all, not just the child's."""
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            continue
    return count


def _children_of(pid: int) -> list[int]:
    found = []
    for child in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{child}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(child))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _runnable_by_anyone(path: str) -> bool:
    p = Path(path).resolve()
    return all(os.stat(d).st_mode & 0o001 for d in p.parents) and bool(os.stat(p).st_mode & 0o001)


def interpreter() -> tuple[str, bool]:
    """The Python to run code with, and whether it runs as `nobody` (root only, and only with a
    Python that `nobody` can run: a virtual environment under /root is not one, the system's is)."""
    if os.geteuid() != 0:
        return sys.executable, False
    for candidate in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(candidate) and _runnable_by_anyone(candidate):
            return candidate, True
    return sys.executable, False


def run(script: Path, timeout_s: float) -> subprocess.CompletedProcess | None:
    """Run `script` with Python in its own folder; None when it ran past `timeout_s` (then killed)."""
    folder = script.parent
    python, as_nobody = interpreter()
    libc = _libc()
    # Non-dumpable: no other process of this user can read this one's environment through /proc.
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    if as_nobody:
        os.chown(folder, NOBODY, NOBODY)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    limit = PROCESSES + _tasks_of(NOBODY if as_nobody else os.getuid())

    network_optional = _network_optional()

    def isolate() -> None:  # in the child, before exec; an exception here means no exec at all
        import resource

        os.setsid()
        if as_nobody:
            isolated = libc.unshare(_CLONE_NEWNET) == 0
        else:
            # A user namespace gives a network namespace without privileges, and drops every
            # capability this machine's root has (such as reading any /proc/PID/environ).
            isolated = libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) == 0 or libc.unshare(_CLONE_NEWNET) == 0
        if not isolated and not network_optional:
            raise OSError("network namespace refused")
        if as_nobody:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        for name, value in (("RLIMIT_CPU", CPU_S), ("RLIMIT_AS", MEMORY_BYTES), ("RLIMIT_FSIZE", FILE_BYTES),
                            ("RLIMIT_NPROC", limit), ("RLIMIT_CORE", 0)):
            resource.setrlimit(getattr(resource, name), (value, value))

    try:
        proc = subprocess.Popen(
            [python, "-I", str(script)], cwd=folder, env={"PATH": "/usr/bin:/bin", "HOME": str(folder)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=isolate,
        )
    except subprocess.SubprocessError:  # raised in the child before exec: nothing ran
        raise IsolationRefused(
            f"not run: this machine refused the code a network namespace, so it could reach the network "
            f"(the operator can allow that with {ALLOW_NETWORK_ENV}=1)"
        ) from None
    try:
        out, err = proc.communicate(timeout=timeout_s)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        return None
    finally:
        _kill_all(proc)


def _kill_all(proc: subprocess.Popen) -> None:
    """The child's whole session, and any descendant that left it (reparented to us, the subreaper)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.kill()
    proc.communicate()
    for orphan in _children_of(os.getpid()):
        try:
            # Run as nobody (under root), every process of that user here is the code's; otherwise
            # those still in its session. (Without root, one that made its own session escapes.)
            if orphan != proc.pid and (os.stat(f"/proc/{orphan}").st_uid == NOBODY or os.getsid(orphan) == proc.pid):
                os.kill(orphan, signal.SIGKILL)
                os.waitpid(orphan, 0)
        except (OSError, ChildProcessError):
            continue
