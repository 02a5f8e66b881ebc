"""Where the CPU went during a measured window: the load (this process), a server's process
tree, the PostgreSQL backends of one database, and the whole machine — read from /proc, so a
bench on shared cores can tell whether the server or the load was the limit."""

from __future__ import annotations

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants so far, from /proc."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / TICK
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += _tree_cpu(int(child))
    except (OSError, ValueError, IndexError):
        pass
    return total


def _database_cpu(name: str) -> float:
    """CPU seconds so far of the PostgreSQL backends serving database `name` (same machine)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes()
            if not command.startswith(b"postgres: ") or f" {name} ".encode() not in command:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, ValueError, IndexError):
            continue
    return total


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU spent during the measured window by the load (this process), the server's
    processes, and the whole machine (other work included)."""

    def __init__(self, server_pid: int, database: str) -> None:
        self.server_pid, self.database = server_pid, database
        self.start()

    def start(self) -> None:
        self.wall, self.own = time.perf_counter(), time.process_time()
        self.server, self.machine = _tree_cpu(self.server_pid), _machine_busy()
        self.db = _database_cpu(self.database)

    def read(self) -> dict[str, float]:
        wall = time.perf_counter() - self.wall
        busy, total = _machine_busy()
        cores = os.cpu_count() or 1
        return {
            "seconds": round(wall, 2),
            "load_cpu_s": round(time.process_time() - self.own, 2),
            "server_cpu_s": round(_tree_cpu(self.server_pid) - self.server, 2),
            "database_cpu_s": round(_database_cpu(self.database) - self.db, 2),
            "machine_busy_pct": round(
                100 * (busy - self.machine[0]) / max(1, total - self.machine[1]), 1
            ),
            "cores": cores,
        }
