"""Backups: the demo clinic, dumped and restored into a new database, comes back row for row.

The demo data is seeded into a scratch database on the server the test suite uses (the
embedded one, or DATABASE_URL's), backed up and restored with ``python -m apu.backup`` as
``make backup`` and ``make restore`` run it; every scratch database is dropped at the end.
"""

import dataclasses
import io
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import environ
import psycopg
import pytest
from psycopg import sql

from apu import backup

REPO_ROOT = Path(__file__).resolve().parents[2]

# One worker runs the whole module, so the demo clinic is seeded, dumped and restored once.
pytestmark = pytest.mark.xdist_group("backup")


def server() -> dict:
    """The connection settings of the server this test run uses."""
    from django.conf import settings

    return settings.DATABASES["default"]


def host_of(settings: dict) -> str:
    return settings.get("OPTIONS", {}).get("host") or settings.get("HOST") or ""


def database_url(name: str) -> str:
    """DATABASE_URL for database ``name`` on the test run's server."""
    settings = server()
    user = quote(settings["USER"], safe="")
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings.get("PASSWORD") else ""
    host, port = host_of(settings), settings.get("PORT") or ""
    if host.startswith("/"):
        return f"postgres://{user}{password}@:{port}/{name}?host={quote(host)}"
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def connect(name: str) -> psycopg.Connection:
    settings = server()
    return psycopg.connect(
        dbname=name,
        host=host_of(settings) or None,
        port=settings.get("PORT") or None,
        user=settings["USER"],
        password=settings.get("PASSWORD") or None,
        autocommit=True,
    )


def run_python(*args: str, database: str) -> subprocess.CompletedProcess:
    """Run the project's Python in the repository root with DATABASE_URL at ``database``."""
    env = {**os.environ, "DATABASE_URL": database_url(database), "DEBUG": "true"}
    env["DJANGO_SETTINGS_MODULE"] = "apu.settings"
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        # Seeding the demo takes about a minute alone; the whole suite runs beside it.
        timeout=600,
        check=False,
    )


def succeeded(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def snapshot(name: str) -> dict:
    """Per table of the public schema, its row count and a checksum of its rows; sequences."""
    with connect(name) as conn:
        tables = [
            table
            for (table,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        rows = {}
        for table in tables:
            # Ordered by the row's text in the C collation: the same in any database.
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                "ORDER BY t::text COLLATE \"C\"), '')) FROM {} AS t"
            ).format(sql.Identifier(table))
            rows[table] = conn.execute(query).fetchone()
        sequences = dict(
            conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall()
        )
    return {"rows": rows, "sequences": sequences}


def history(snapshot: dict) -> dict:
    return {table: rows for table, rows in snapshot["rows"].items() if "_historical" in table}


@dataclass
class Drill:
    original: str
    restored: str
    archive: Path
    dump_output: str
    restore_output: str
    at_dump: dict
    after_edit: dict
    restored_snapshot: dict
    edited_patient: int
    name_at_dump: str


class ScratchDatabases:
    """Databases of this module on the test run's server, each with a name of its own."""

    def __init__(self):
        self.names: list[str] = []

    def name(self, prefix: str) -> str:
        """A fresh name, for a database something else creates (a restore)."""
        self.names.append(f"{prefix}_{secrets.token_hex(4)}")
        return self.names[-1]

    def create(self, prefix: str) -> str:
        name = self.name(prefix)
        with connect(server()["NAME"]) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_all(self) -> None:
        with connect(server()["NAME"]) as conn:
            for name in self.names:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                conn.execute(drop.format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def scratch():
    """Scratch databases, all dropped at the end whatever happened."""
    databases = ScratchDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="module")
def drill(scratch, tmp_path_factory) -> Drill:
    """Seed the demo clinic, back it up, edit a patient, then restore the backup elsewhere."""
    original = scratch.create("apu_backup_test")
    succeeded(run_python("manage.py", "migrate", "--no-input", database=original))
    succeeded(run_python("manage.py", "seed_demo", database=original))
    archive = tmp_path_factory.mktemp("backup") / "demo.dump"

    dump_output = succeeded(run_python("-m", "apu.backup", "dump", str(archive), database=original))
    at_dump = snapshot(original)
    with connect(original) as conn:
        patient, name_at_dump = conn.execute(
            "SELECT id, name FROM referrals_patient ORDER BY id LIMIT 1"
        ).fetchone()
    edit = (
        "from referrals.models import Patient; "
        f"patient = Patient.objects.get(pk={patient}); "
        "patient.name = 'Rettet Efter Backup'; patient.save()"
    )
    succeeded(run_python("manage.py", "shell", "-c", edit, database=original))
    after_edit = snapshot(original)
    restored = scratch.name("apu_restored")
    restore_output = succeeded(
        run_python(
            "-m", "apu.backup", "restore", str(archive), "--into", restored, database=original
        )
    )
    return Drill(
        original=original,
        restored=restored,
        archive=archive,
        dump_output=dump_output,
        restore_output=restore_output,
        at_dump=at_dump,
        after_edit=after_edit,
        restored_snapshot=snapshot(restored),
        edited_patient=patient,
        name_at_dump=name_at_dump,
    )


def test_restored_database_has_the_same_row_count_in_every_table(drill):
    counts_at_dump = {table: rows[0] for table, rows in drill.at_dump["rows"].items()}
    restored_counts = {table: rows[0] for table, rows in drill.restored_snapshot["rows"].items()}

    assert len(counts_at_dump) > 50
    assert counts_at_dump["referrals_patient"] > 0
    assert counts_at_dump["modules_attendance"] > 0
    assert restored_counts == counts_at_dump


def test_restored_database_has_the_same_history_row_for_row(drill):
    history_at_dump = history(drill.at_dump)

    assert sum(count for count, _ in history_at_dump.values()) > 1000
    assert history(drill.restored_snapshot) == history_at_dump


def test_every_table_and_sequence_comes_back_unchanged(drill):
    assert drill.restored_snapshot == drill.at_dump


def test_a_change_after_the_backup_is_not_in_the_restored_copy(drill):
    with connect(drill.original) as conn:
        name_now = conn.execute(
            "SELECT name FROM referrals_patient WHERE id = %s", [drill.edited_patient]
        ).fetchone()[0]
    with connect(drill.restored) as conn:
        restored_name = conn.execute(
            "SELECT name FROM referrals_patient WHERE id = %s", [drill.edited_patient]
        ).fetchone()[0]
    patient_history = "referrals_historicalpatient"

    assert name_now == "Rettet Efter Backup"
    assert restored_name == drill.name_at_dump != name_now
    assert drill.after_edit["rows"][patient_history][0] == (
        drill.at_dump["rows"][patient_history][0] + 1
    )
    assert (
        drill.restored_snapshot["rows"][patient_history] == (drill.at_dump["rows"][patient_history])
    )


def test_the_backup_file_is_readable_by_its_owner_only(drill):
    assert drill.archive.stat().st_mode & 0o777 == 0o600
    assert f"Backup written: {drill.archive}" in drill.dump_output
    assert not drill.archive.with_name(drill.archive.name + ".partial").exists()


def test_restore_reports_the_row_counts_and_a_database_url_that_reaches_the_copy(drill):
    patients = drill.at_dump["rows"]["referrals_patient"][0]
    history_at_dump = sum(count for count, _ in history(drill.at_dump).values())
    url = re.search(r"DATABASE_URL='([^']+)'", drill.restore_output).group(1)
    config = environ.Env.db_url_config(url)
    options = config.get("OPTIONS", {})
    with psycopg.connect(
        dbname=config["NAME"],
        host=options.get("host") or config["HOST"],
        port=config["PORT"],
        user=config["USER"],
        password=server().get("PASSWORD") or None,
    ) as conn:
        reached = conn.execute("SELECT count(*) FROM referrals_patient").fetchone()[0]

    assert "'manage.py check' passes" in drill.restore_output
    # Restored beside the database in use, which has one history row more: the edit.
    assert re.search(rf"^ +patients +{patients} +{patients}$", drill.restore_output, re.M)
    assert re.search(
        rf"^ +history rows +{history_at_dump} +{history_at_dump + 1}$", drill.restore_output, re.M
    )
    assert config["NAME"] == drill.restored
    assert reached == patients


@pytest.mark.parametrize(
    ("target", "refusal"),
    [
        pytest.param("restored", "exists already", id="an earlier restore"),
        pytest.param("original", "is the database in use", id="the database in use"),
    ],
)
def test_restore_refuses_a_database_that_exists(drill, target, refusal):
    target = getattr(drill, target)
    before = snapshot(target)

    result = run_python(
        "-m", "apu.backup", "restore", str(drill.archive), "--into", target,
        database=drill.original,
    )  # fmt: skip

    assert result.returncode == 1
    assert f"database {target!r}" in result.stderr
    assert refusal in result.stderr
    assert snapshot(target) == before


def test_restore_without_a_file_says_how_to_use_it():
    result = run_python("-m", "apu.backup", "restore", database=server()["NAME"])

    assert result.returncode == 2
    assert "usage: make restore FILE=" in result.stderr


def test_a_failing_pg_dump_exits_non_zero_and_leaves_no_file(tmp_path):
    archive = tmp_path / "missing.dump"

    result = run_python(
        "-m", "apu.backup", "dump", str(archive), database="apu_backup_no_such_database"
    )

    assert result.returncode != 0
    assert "pg_dump of database 'apu_backup_no_such_database'" in result.stderr
    assert "no backup was written" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_backup_never_writes_over_an_existing_file(tmp_path):
    archive = tmp_path / "kept.dump"
    archive.write_text("an older backup")

    result = run_python("-m", "apu.backup", "dump", str(archive), database=server()["NAME"])

    assert result.returncode != 0
    assert "exists already" in result.stderr
    assert archive.read_text() == "an older backup"


def test_the_password_goes_to_pg_dump_in_the_environment_and_is_never_shown():
    database = backup.Database(
        name="apu",
        host="db.example.org",
        port="5432",
        user="apu",
        password="s3cret/pw",
        options={"sslmode": "require"},
        url="postgres://apu:s3cret%2Fpw@db.example.org:5432/apu?sslmode=require",
    )
    copy = dataclasses.replace(database, name="apu_restore_1")

    assert database.environment()["PGPASSWORD"] == "s3cret/pw"
    assert database.environment()["PGSSLMODE"] == "require"
    assert "s3cret" not in repr(database) + database.shown() + copy.database_url()
    assert copy.database_url() == (
        "postgres://apu:<password>@db.example.org:5432/apu_restore_1?sslmode=require"
    )
    assert copy.database_url(with_password=True) == (
        "postgres://apu:s3cret%2Fpw@db.example.org:5432/apu_restore_1?sslmode=require"
    )


def test_a_pg_dump_older_than_the_server_is_refused_with_the_versions(monkeypatch):
    monkeypatch.setattr(backup, "program_major_version", lambda program: 15)
    monkeypatch.setattr(backup, "server_major_version", lambda database: 18)

    with pytest.raises(backup.BackupError, match="is PostgreSQL 15, older than the server"):
        backup.checked_program("pg_dump", backup.Database("apu", "", "5432", "postgres"))


def test_restoring_into_an_older_server_leaves_out_only_its_unknown_settings():
    script = (
        b"SET statement_timeout = 0;\n"
        b"SET transaction_timeout = 0;\n"
        b"COPY public.notes (text) FROM stdin;\n"
        b"SET transaction_timeout = 0;\n"
        b"\\.\n"
    )
    sent = io.BytesIO()

    backup.copy_without_newer_settings(io.BytesIO(script), sent)

    assert sent.getvalue() == script.replace(b"SET transaction_timeout = 0;\n", b"", 1)
