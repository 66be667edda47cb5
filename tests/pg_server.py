"""A throwaway PostgreSQL cluster with PostGIS for the tests of the PostgreSQL store.

The cluster lives in a fresh temporary directory, listens only on 127.0.0.1 on a free port (its socket in
the same directory), trusts every local connection and runs with fsync off: it holds test data only and is
removed at the end. As root the cluster runs as the Debian ``postgres`` system user (``initdb`` refuses
root), otherwise as the current user. ``tests/conftest.py`` wraps it in the fixtures ``pg_server`` and
``postgres_url``; as a script it starts a cluster and prints its URL until Ctrl-C:

    .venv/bin/python -m tests.pg_server
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.browser import free_port

MISSING_MESSAGE = ("PostgreSQL met PostGIS ontbreekt: installeer de Debian-pakketten postgresql en postgis "
                   "(apt-get install postgresql postgis), dan draaien deze tests mee.")
NO_POSTGRES_USER_MESSAGE = ("PostgreSQL draait niet als root en de systeemgebruiker 'postgres' ontbreekt: "
                            "installeer het Debian-pakket postgresql (dat maakt die gebruiker aan) of draai de "
                            "tests als gewone gebruiker.")
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
DEBIAN_LIB = Path("/usr/lib/postgresql")
DEBIAN_SHARE = Path("/usr/share/postgresql")
TEMPLATE = "steunkaart_template"
SUPERUSER = "postgres"  # the cluster's superuser (initdb -U)
OS_USER = "postgres"  # the Debian system user that runs the cluster when we are root
START_TIMEOUT_S = 60
# Only settings that make a throwaway test cluster fast and private; never use these for real data.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}


class PostgresMissing(RuntimeError):
    """PostgreSQL or PostGIS is not installed here (the message says what to install, in Dutch)."""


def _has_server_programs(bindir: Path) -> bool:
    return all((bindir / name).is_file() and os.access(bindir / name, os.X_OK) for name in SERVER_PROGRAMS)


def _pg_config(pg_config: str | Path, option: str) -> Path | None:
    try:
        out = subprocess.run([str(pg_config), option], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return Path(value) if value else None


def _version_key(name: str) -> tuple[int, ...]:
    """Sort key of a version directory name such as '15' or '9.6'."""
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def find_bindir() -> Path | None:
    """The directory with initdb, pg_ctl and postgres: ``pg_config --bindir``, else the newest
    /usr/lib/postgresql/*/bin (Debian), else the one on PATH; None when there is none."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = _pg_config(pg_config, "--bindir")
        if bindir is not None and _has_server_programs(bindir):
            return bindir
    for bindir in sorted(DEBIAN_LIB.glob("*/bin"), key=lambda p: _version_key(p.parent.name), reverse=True):
        if _has_server_programs(bindir):
            return bindir
    initdb = shutil.which("initdb")
    if initdb and _has_server_programs(Path(initdb).parent):
        return Path(initdb).parent
    return None


def share_dirs(bindir: Path) -> list[Path]:
    """Where the server of ``bindir`` looks for extensions (``.../extension``), best guess first."""
    for pg_config in (bindir / "pg_config", shutil.which("pg_config")):
        if pg_config and Path(pg_config).exists():
            sharedir = _pg_config(pg_config, "--sharedir")
            if sharedir is not None:
                return [sharedir]
    # Debian layout without pg_config: /usr/lib/postgresql/NN/bin belongs to /usr/share/postgresql/NN.
    if bindir.parent.parent == DEBIAN_LIB:
        return [DEBIAN_SHARE / bindir.parent.name]
    return sorted(DEBIAN_SHARE.glob("*"), key=lambda p: _version_key(p.name), reverse=True)


def postgis_installed(sharedirs: list[Path]) -> bool:
    return any((sharedir / "extension" / "postgis.control").is_file() for sharedir in sharedirs)


def _needs_other_user() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def missing_reason(bindir: Path | None = None, sharedirs: list[Path] | None = None) -> str | None:
    """Why a throwaway PostGIS cluster cannot start here (a Dutch sentence), or None when it can.

    ``bindir``/``sharedirs`` default to what :func:`find_bindir` and :func:`share_dirs` find."""
    if bindir is None:
        bindir = find_bindir()
        if bindir is None:
            return MISSING_MESSAGE
    if not _has_server_programs(bindir):
        return MISSING_MESSAGE
    if not postgis_installed(share_dirs(bindir) if sharedirs is None else sharedirs):
        return MISSING_MESSAGE
    if _needs_other_user():
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return NO_POSTGRES_USER_MESSAGE
    return None


def _connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10)


class PgServer:
    """One running throwaway cluster. Use :func:`throwaway_server` (it always stops and removes it)."""

    def __init__(self, bindir: Path, root: Path, port: int):
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "sock"
        self.log = root / "postgres.log"
        self.port = port
        self.host = "127.0.0.1"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def new_database(self) -> str:
        """A new database with PostGIS (a copy of the template, so it takes a fraction of a second);
        return its URL."""
        name = f"steunkaart_test_{uuid.uuid4().hex[:12]}"
        with _connect(self.url()) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`new_database`, closing any connection still open to it."""
        name = url.rsplit("/", 1)[1]
        if not name.startswith("steunkaart_test_"):
            raise ValueError(f"not a test database: {name}")
        with _connect(self.url()) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # -- life cycle -------------------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if _needs_other_user():
            cmd = ["runuser", "-u", OS_USER, "--", *cmd]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        proc = subprocess.run(cmd, cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
                               f"{self._log_tail()}")
        return proc

    def _log_tail(self) -> str:
        try:
            return "\n--- postgres.log ---\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return ""

    def start(self, attempts: int = 3) -> None:
        self._run(self.bindir / "initdb", "-D", self.data, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                  "--locale=C", "--no-sync")
        settings = dict(SETTINGS, unix_socket_directories=f"'{self.socket_dir}'")
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# throwaway test cluster (tests/pg_server.py)\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        for attempt in range(attempts):
            try:
                # The port goes on the command line: another process may take a free port before we bind it.
                self._run(self.bindir / "pg_ctl", "start", "-D", self.data, "-l", self.log, "-w", "-t",
                          str(START_TIMEOUT_S), "-o", f"-p {self.port}", timeout=START_TIMEOUT_S + 30)
                break
            except RuntimeError:
                if attempt == attempts - 1 or "could not bind" not in self._log_tail():
                    raise
                self.port = free_port()
        with _connect(self.url()) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        with _connect(self.url(TEMPLATE)) as conn:
            conn.execute("CREATE EXTENSION postgis")
        with _connect(self.url()) as conn:
            conn.execute(f"ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true")

    def stop(self) -> None:
        """Stop the cluster (immediately: its data is thrown away); kill it if pg_ctl cannot."""
        if not (self.data / "postmaster.pid").exists():
            return
        try:
            self._run(self.bindir / "pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w", "-t", "30",
                      timeout=60)
        except (RuntimeError, subprocess.SubprocessError):
            with contextlib.suppress(OSError, ValueError, IndexError):
                pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
                os.kill(pid, signal.SIGKILL)


def _make_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="steunkaart-pg-"))
    (root / "sock").mkdir()
    if _needs_other_user():
        user = pwd.getpwnam(OS_USER)
        for path in (root, root / "sock"):
            os.chown(path, user.pw_uid, user.pw_gid)
    return root


@contextlib.contextmanager
def throwaway_server() -> Iterator[PgServer]:
    """Start a throwaway PostGIS cluster, yield it, and always stop and remove it afterwards.

    Raises :class:`PostgresMissing` (with the Dutch message) when PostgreSQL or PostGIS is missing."""
    reason = missing_reason()
    if reason is not None:
        raise PostgresMissing(reason)
    bindir = find_bindir()
    assert bindir is not None
    root = _make_root()
    server = PgServer(bindir, root, free_port())
    restore_sigterm = _exit_on_sigterm()
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
            restore_sigterm()


def _exit_on_sigterm() -> Callable[[], None]:
    """Let SIGTERM (a CI job's timeout, ``kill``) end the process as Ctrl-C does, through the ``finally`` blocks
    (pytest stops the session and runs the fixtures' teardown), so that the cluster is still stopped and removed;
    returns the function that puts the old handler back."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None

    def _exit(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _exit)
    return lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL)


def main() -> None:
    with throwaway_server() as server:
        print(f"STEUNKAART_STORE={server.new_database()}", flush=True)
        print("Ctrl-C stopt de server en wist alles.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
