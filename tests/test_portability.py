"""The package runs on Windows too: no POSIX-only call, module or hard-coded POSIX path outside guarded code.

An AST scan of replicator/ and tui/.  Guarded means inside an `if` (or `x if ... else y`, or after it in an `and`) whose
test looks at the platform (`sys.platform`, `os.name`, `platform.system()`, `hasattr(...)`/`getattr(...)` of the very
feature), in a `try` that handles ImportError/AttributeError, or in a module that is itself the glue of one platform.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("replicator", "tui")

POSIX_MODULES = {"fcntl", "pwd", "grp", "termios", "resource", "posix", "syslog", "pty", "tty", "crypt", "spwd"}
POSIX_CALLS = {
    "os": {
        "geteuid",
        "getuid",
        "getegid",
        "getgid",
        "getgroups",
        "fork",
        "forkpty",
        "setsid",
        "setpgid",
        "getpgid",
        "killpg",
        "uname",
        "sysconf",
        "nice",
        "mkfifo",
        "chown",
        "lchown",
        "fchown",
        "wait3",
        "wait4",
        "pipe2",
        "sched_getaffinity",
        "statvfs",
        "getloadavg",
        "setuid",
        "setgid",
        "seteuid",
        "ttyname",
        "openpty",
    },
    "signal": {
        "SIGKILL",
        "SIGHUP",
        "SIGUSR1",
        "SIGUSR2",
        "SIGALRM",
        "SIGCHLD",
        "SIGQUIT",
        "SIGPIPE",
        "SIGSTOP",
        "SIGCONT",
        "alarm",
        "setitimer",
        "pause",
        "siginterrupt",
        "pthread_kill",
        "pthread_sigmask",
    },
}
POSIX_PATHS = ("/tmp", "/etc", "/dev", "/usr", "/var", "/proc", "/run", "/sys", "/opt", "/home", "/bin")

# Modules that are one platform's glue: they are never imported on the other platform.
PLATFORM_GLUE = {
    "replicator/service/systemd.py": "the Linux service installer (systemd exists only there)",
    "replicator/service/windows.py": "the Windows service glue (refuses to import elsewhere)",
}
GUARD_WORDS = ("sys.platform", "os.name", "platform.system", "hasattr(", "getattr(", "IS_WINDOWS", "WINDOWS", "POSIX")


def _guard_text(node: ast.AST, source: str) -> str:
    return ast.unparse(node)


class _Scan(ast.NodeVisitor):
    def __init__(self, source: str, where: str):
        self.source, self.where = source, where
        self.guarded = 0
        self.problems: list[str] = []

    def _flag(self, node: ast.AST, what: str) -> None:
        if not self.guarded:
            self.problems.append(f"{self.where}:{node.lineno}: {what}")

    def _visit_guarded(self, test: ast.AST, body: list[ast.AST], orelse: list[ast.AST]) -> None:
        self.visit(test)
        guarded = any(word in _guard_text(test, self.source) for word in GUARD_WORDS)
        self.guarded += guarded
        for child in [*body, *orelse]:
            self.visit(child)
        self.guarded -= guarded

    def visit_If(self, node: ast.If) -> None:
        self._visit_guarded(node.test, node.body, node.orelse)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._visit_guarded(node.test, [node.body], [node.orelse])

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        """`hasattr(os, "geteuid") and os.geteuid() == 0`: what follows a platform test in an `and` is guarded."""
        added = 0
        for value in node.values:
            self.visit(value)
            if (
                isinstance(node.op, ast.And)
                and not added
                and any(word in _guard_text(value, self.source) for word in GUARD_WORDS)
            ):
                added = 1
                self.guarded += 1
        self.guarded -= added

    def visit_Try(self, node: ast.Try) -> None:
        handled = {_guard_text(h.type, self.source) for h in node.handlers if h.type is not None}
        guarded = any(
            word in text for text in handled for word in ("ImportError", "AttributeError", "ModuleNotFoundError")
        )
        self.guarded += guarded
        for child in node.body:
            self.visit(child)
        self.guarded -= guarded
        for child in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] in POSIX_MODULES:
                self._flag(node, f"imports the POSIX-only module {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.module.split(".")[0] in POSIX_MODULES:
            self._flag(node, f"imports from the POSIX-only module {node.module}")
        if node.module in POSIX_CALLS:
            for alias in node.names:
                if alias.name in POSIX_CALLS[node.module]:
                    self._flag(node, f"imports the POSIX-only {node.module}.{alias.name}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.attr in POSIX_CALLS.get(node.value.id, ()):
            self._flag(node, f"uses the POSIX-only {node.value.id}.{node.attr}")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, str) and any(value == p or value.startswith(p + "/") for p in POSIX_PATHS):
            self._flag(node, f"hard-codes the POSIX path {value!r}")


def scan(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    where = path.relative_to(ROOT).as_posix()
    if where in PLATFORM_GLUE:
        return []
    visitor = _Scan(source, where)
    visitor.visit(ast.parse(source, filename=where))
    return visitor.problems


def test_no_posix_only_call_outside_guarded_code():
    problems = [p for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py")) for p in scan(path)]
    assert not problems, "POSIX-only code outside a platform guard:\n" + "\n".join(problems)


def test_the_scan_finds_what_it_looks_for(tmp_path):
    """The scanner itself: unguarded uses are found, guarded ones are not."""
    bad = ROOT / "replicator" / "_portability_probe.py"
    bad.write_text(
        "import os, signal, sys\nimport fcntl\n"
        "uid = os.geteuid()\nsignal.signal(signal.SIGHUP, None)\nLOG = '/var/log/replicator.log'\n"
        "if sys.platform != 'win32':\n    import pwd\n    os.kill(1, signal.SIGKILL)\n"
        "root = os.geteuid() == 0 if hasattr(os, 'geteuid') else False\n"
        "admin = hasattr(os, 'getuid') and os.getuid() == 0\nnobody = os.getuid() == 0 and hasattr(os, 'x')\n"
        "try:\n    import termios\nexcept ImportError:\n    termios = None\n",
        encoding="utf-8",
    )
    try:
        found = scan(bad)
    finally:
        bad.unlink()
    assert [p.split(": ", 1)[1] for p in found] == [
        "imports the POSIX-only module fcntl",
        "uses the POSIX-only os.geteuid",
        "uses the POSIX-only signal.SIGHUP",
        "hard-codes the POSIX path '/var/log/replicator.log'",
        "uses the POSIX-only os.getuid",
    ]


def test_the_stand_in_driver_name_follows_the_platform():
    import pyodbc

    from replicator.factusol.connection import SQLITE_DRIVER
    from replicator.factusol.driver import sqlite_driver_name

    assert SQLITE_DRIVER in pyodbc.drivers()  # the name this system's driver manager knows
    assert sqlite_driver_name("win32") == "SQLite3 ODBC Driver"  # as the sqliteodbc installer registers it
    assert sqlite_driver_name("linux") == "SQLite3"
