"""The benchmark behind ``make bench`` and ``make bench-quick`` (README, "Benchmark").

For each scale N it uses a database holding N x the demo's data (``seed_demo --scale N``,
made once and kept until the day, the scale or the migrations change), serves the app with
gunicorn and production settings on 127.0.0.1, logs in as a clinician, a coordinator, a
researcher and an admin (password and TOTP code, as a user would), and drives wrk, a
compiled load generator, with a fixed number of connections at one page at a time for a
fixed duration. It prints, per page, requests/s, p50/p95/p99 and SQL queries per request,
then the growth ratio between the smallest and the largest scale, the ratio to the Django
admin's changelist of the same model and filter, the research export's rows per second and
memory, each worker's peak RSS and wrk's own CPU share. The figures go to a git-ignored
folder, ``.bench/<time>/``; the last line printed is the one-line summary::

    BENCH p95_ms_max=<int> growth_ratio_max=<float> admin_ratio_max=<float> rss_mb_max=<int>

``python scripts/bench.py probe`` is the part that runs inside Django against one bench
database (chosen objects, query counts, login cookies); the harness calls it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date, datetime
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_DIR = BASE_DIR / ".bench"
LUA = Path(__file__).with_name("bench.lua")
# The bench databases are made by seed_demo, so the demo logins exist with this password.
PASSWORD = os.environ.get("DEMO_PASSWORD") or "bench-only-password-not-secret"  # noqa: S105
CLINICIAN, COORDINATOR, RESEARCHER, ADMIN = (
    "klinik",
    "koordinator-ballerup",
    "forsker",
    "admin",
)
# (key, what it is, persona); the probe fills in each page's path.
PAGES = [
    ("referral_worklist", "referral worklist", CLINICIAN),
    ("referral_detail", "referral detail", CLINICIAN),
    ("patient_search", "patient search by CPR", CLINICIAN),
    ("course_page", "course page (clinician)", CLINICIAN),
    ("course_page_coordinator", "course page (coordinator)", COORDINATOR),
    ("meetings_clinic", "meeting worklist (clinic)", CLINICIAN),
    ("meetings_coordinator", "meeting worklist (coordinator)", COORDINATOR),
    ("session_attendance", "session attendance page", CLINICIAN),
    ("dashboard", "Lean dashboard", CLINICIAN),
    ("admin_referrals", "admin: referrals, open", ADMIN),
    ("admin_patient_search", "admin: patients, CPR search", ADMIN),
    ("admin_meetings", "admin: meetings, open", ADMIN),
    ("admin_meetings_municipality", "admin: meetings, open, Ballerup", ADMIN),
]
# Our list page -> the admin changelist a user would otherwise use, same model and filter.
ADMIN_PAIRS = {
    "referral_worklist": "admin_referrals",
    "patient_search": "admin_patient_search",
    "meetings_clinic": "admin_meetings",
    "meetings_coordinator": "admin_meetings_municipality",
}
EXPORT_PATH = "/research/export.csv"
EXPORT_RUNS = 2


# --- the harness ------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,100", help="comma-separated, e.g. 1,100")
    parser.add_argument("--duration", type=int, default=30, help="seconds of load per page")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load first")
    parser.add_argument("--clients", type=int, default=10, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    args = parser.parse_args(argv)
    scales = sorted({int(s) for s in args.scales.split(",")})
    wrk = ensure_wrk()
    run_dir = BENCH_DIR / datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    report = Report(run_dir / "report.txt")
    report.line(
        f"APU pathway benchmark: scales {scales}, {args.clients} concurrent clients, "
        f"{args.duration} s per page after {args.warmup} s warm-up, gunicorn with "
        f"{args.workers} workers, {os.cpu_count()} CPUs; figures in {run_dir.relative_to(BASE_DIR)}"
    )
    server = DatabaseServer()
    collectstatic(server.url("postgres"))
    results = {}
    for scale in scales:
        db_url = prepare_database(server, scale, report)
        results[scale] = bench_scale(scale, db_url, args, wrk, run_dir, report)
        (run_dir / "results.json").write_text(json.dumps(results, indent=2))
    summary = summarise(results, scales, report)
    (run_dir / "results.json").write_text(json.dumps({"scales": results, **summary}, indent=2))
    report.line(
        f"BENCH p95_ms_max={summary['p95_ms_max']} growth_ratio_max={summary['growth_ratio_max']}"
        f" admin_ratio_max={summary['admin_ratio_max']} rss_mb_max={summary['rss_mb_max']}"
    )
    return 0


class Report:
    """Prints each line and keeps it in the run's report file."""

    def __init__(self, path: Path):
        self.path = path

    def line(self, text: str = "") -> None:
        print(text, flush=True)
        with self.path.open("a") as file:
            file.write(text + "\n")


def ensure_wrk() -> str:
    """The wrk binary; installed from the distribution's packages when missing and allowed."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("Installing wrk (the load generator) with apt-get ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
        found = shutil.which("wrk")
    if not found:
        sys.exit("The benchmark needs wrk: install it (Debian: apt-get install wrk) and rerun.")
    return found


class DatabaseServer:
    """The PostgreSQL server in use: DATABASE_URL's, or the embedded one in .data/."""

    def __init__(self):
        configured = os.environ.get("DATABASE_URL", "")
        if configured:
            self.parts = urlsplit(configured)
        else:
            sys.path.insert(0, str(BASE_DIR))
            from apu.embedded_db import start

            socket_dir, port = start()
            self.parts = urlsplit(f"postgres://postgres@:{port}/postgres?host={socket_dir}")

    def url(self, name: str) -> str:
        return urlunsplit(self.parts._replace(path=f"/{name}"))

    def execute(self, sql: str, database: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []


def base_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(DATABASE_URL=db_url, PYTHONDONTWRITEBYTECODE="1", DEMO_PASSWORD=PASSWORD)
    env.update(extra)
    return env


def production_env(db_url: str, **extra: str) -> dict[str, str]:
    """Production settings, but plain http on loopback (no TLS proxy in front)."""
    settings = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "RESEARCH_PSEUDONYM_KEY": "bench-only-pseudonym-key",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "REQUIRE_2FA": "true",
        "LOG_LEVEL": "WARNING",
        "EMAIL_URL": "dummymail://",
    }
    return base_env(db_url, **{**settings, **extra})


def manage(*args: str, env: dict[str, str], capture: bool = False) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return done.stdout or ""


def collectstatic(db_url: str) -> None:
    # Production settings serve hashed static files through WhiteNoise's manifest.
    manage("collectstatic", "--no-input", "-v0", env=production_env(db_url))


def code_fingerprint() -> str:
    """A hash of what shapes a seeded database: migrations and the demo and scaling code."""
    files = sorted(BASE_DIR.glob("*/migrations/0*.py")) + sorted(BASE_DIR.glob("*/demo.py"))
    files += [BASE_DIR / "apu" / "scaling.py", BASE_DIR / "apu/management/commands/seed_demo.py"]
    digest = hashlib.sha256()
    for path in files:
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def prepare_database(server: DatabaseServer, scale: int, report: Report) -> str:
    """A database at ``scale``, seeded today by this checkout's code, made again otherwise."""
    name = f"apu_bench_s{scale}"
    marker_path = BENCH_DIR / "databases" / f"{name}.json"
    wanted = {
        "scale": scale,
        "seeded_on": date.today().isoformat(),
        "code": code_fingerprint(),
        "server": server.url(name),
    }
    exists = server.execute(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
    marker = json.loads(marker_path.read_text()) if marker_path.exists() else None
    if exists and marker == wanted:
        report.line(f"Scale {scale}: reusing database {name} (seeded today).")
        return server.url(name)
    started = time.monotonic()
    server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server.execute(f'CREATE DATABASE "{name}"')
    env = base_env(server.url(name), DEBUG="true")
    manage("migrate", "--no-input", "-v0", env=env)
    scale_args = ["--scale", str(scale)] if scale > 1 else []
    seeded = manage("seed_demo", *scale_args, env=env, capture=True)
    # Settled as a database in use is: without this, autovacuum works through the million
    # new rows while the first pages are measured (at scale 100 it took the referral
    # worklist's p50 from 97 to 154 ms), and index-only scans still visit the heap.
    server.execute("VACUUM (ANALYZE)", database=name)
    (BENCH_DIR / "databases").mkdir(parents=True, exist_ok=True)
    (BENCH_DIR / "databases" / f"{name}.log").write_text(seeded)
    marker_path.write_text(json.dumps(wanted))
    report.line(f"Scale {scale}: database {name} made in {time.monotonic() - started:.0f} s.")
    return server.url(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, log: Path):
    """The app under gunicorn on 127.0.0.1:port until the block ends."""
    command = [
        str(Path(PYTHON).with_name("gunicorn")),
        "apu.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--timeout=120",
        # No control socket: its one path per user would collide with another gunicorn.
        "--no-control-socket",
        *(["--access-logfile=-"] if os.environ.get("BENCH_ACCESS_LOG") else []),
        f"--error-logfile={log}",
    ]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                sys.exit(f"gunicorn stopped at start-up; see {log}")
            try:
                if http_get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"gunicorn did not answer /healthz within 60 s; see {log}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def http_get(port: int, path: str, cookie: str = "") -> tuple[int, bytes]:
    conn = HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def workers_of(master_pid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master_pid:
                pids.append(int(entry.name))
    return sorted(pids)


def peak_rss_mb(pid: int, field: str = "VmHWM") -> float:
    """The process's peak resident memory so far (VmHWM), or its current one (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_scale(scale, db_url, args, wrk, run_dir, report) -> dict:
    port = args.port or free_port()
    env = production_env(db_url)
    # As cron does in production (README, Deployment): the dashboard's default views.
    started = time.monotonic()
    manage("refresh_dashboard", env=env, capture=True)
    refresh_s = time.monotonic() - started
    with gunicorn(env, port, args.workers, run_dir / f"gunicorn-s{scale}.log") as master:
        probe = run_probe(db_url, port)
        result = {"counts": probe["counts"], "pages": {}, "export": {}, "refresh_s": refresh_s}
        for key, what, persona in PAGES:
            page = probe["pages"][key]
            cookie = probe["cookies"][persona]
            warm = run_wrk(wrk, port, page["path"], cookie, args.clients, args.warmup)
            figures = run_wrk(wrk, port, page["path"], cookie, args.clients, args.duration)
            figures.update(what=what, path=page["path"], queries=page["queries"])
            figures["warmup_not_200"] = warm["not_200"]
            result["pages"][key] = figures
        result["export"] = bench_export(port, probe["cookies"][RESEARCHER], master.pid)
        workers = workers_of(master.pid)
        result["rss_mb"] = {str(pid): round(peak_rss_mb(pid), 1) for pid in workers}
        result["rss_now_mb"] = {str(p): round(peak_rss_mb(p, "VmRSS"), 1) for p in workers}
    print_scale(scale, result, report)
    return result


def run_probe(db_url: str, port: int) -> dict:
    env = production_env(db_url, ALLOWED_HOSTS="127.0.0.1,testserver")
    output = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), "probe", str(port)],
        cwd=BASE_DIR,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_wrk(wrk, port, path, cookie, clients, duration) -> dict:
    threads = min(2, clients)
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={clients}",
        f"--duration={duration}s",
        "--timeout=60s",
        f"--script={LUA}",
        f"--header=Cookie: {cookie}",
        f"http://127.0.0.1:{port}{path}",
    ]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if process.returncode != 0:
        sys.exit(f"wrk failed on {path}:\n{output}")
    line = next(x for x in output.splitlines() if x.startswith("BENCHJSON "))
    raw = json.loads(line.removeprefix("BENCHJSON "))
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "not_200": raw["not_200"],
        "errors": raw["errors"] + raw["timeouts"],
        # wrk's own CPU time over the wall time of all CPUs: its share of the machine.
        "wrk_cpu_share": round((usage.ru_utime + usage.ru_stime) / (wall * os.cpu_count()), 3),
    }


def bench_export(port: int, cookie: str, master_pid: int) -> dict:
    """Download the research export a few times: rows per second and worker memory."""
    before = {pid: peak_rss_mb(pid) for pid in workers_of(master_pid)}
    runs = []
    for _run in range(EXPORT_RUNS):
        conn = HTTPConnection("127.0.0.1", port, timeout=600)
        started = time.monotonic()
        conn.request("GET", EXPORT_PATH, headers={"Cookie": cookie})
        response = conn.getresponse()
        lines = 0
        size = 0
        first_byte = None
        while chunk := response.read(65536):
            if first_byte is None:
                first_byte = time.monotonic() - started
            lines += chunk.count(b"\n")
            size += len(chunk)
        elapsed = time.monotonic() - started
        conn.close()
        if response.status != 200:
            sys.exit(f"The research export answered {response.status}.")
        runs.append(
            {"rows": lines - 1, "seconds": elapsed, "first_byte_s": first_byte, "bytes": size}
        )
    after = {pid: peak_rss_mb(pid) for pid in workers_of(master_pid)}
    seconds = statistics.median(r["seconds"] for r in runs)
    rows = runs[0]["rows"]
    return {
        "rows": rows,
        "mb": round(runs[0]["bytes"] / 1e6, 1),
        "seconds": round(seconds, 2),
        "first_byte_s": round(statistics.median(r["first_byte_s"] or 0 for r in runs), 2),
        "rows_per_s": round(rows / seconds) if seconds else 0,
        "rss_growth_mb": round(max(after[p] - before.get(p, after[p]) for p in after), 1),
    }


def print_scale(scale: int, result: dict, report: Report) -> None:
    counts = ", ".join(f"{n:,} {what}" for what, n in result["counts"].items())
    report.line()
    report.line(f"Scale {scale}: {counts}")
    report.line(
        f"  {'page':<34}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'queries':>9}{'not 200':>9}"
    )
    for figures in result["pages"].values():
        report.line(
            f"  {figures['what']:<34}{figures['rps']:>8.1f}{figures['p50_ms']:>9.1f}"
            f"{figures['p95_ms']:>9.1f}{figures['p99_ms']:>9.1f}{figures['queries']:>9}"
            f"{figures['not_200'] + figures['errors']:>9}"
        )
    export = result["export"]
    report.line(
        f"  research export: {export['rows']:,} rows, {export['mb']} MB in {export['seconds']} s"
        f" ({export['rows_per_s']:,} rows/s, first byte after {export['first_byte_s']} s),"
        f" worker peak RSS grew {export['rss_growth_mb']} MB"
    )
    report.line(f"  refresh_dashboard (cron, every 10 minutes): {result['refresh_s']:.1f} s")
    share = max(f["wrk_cpu_share"] for f in result["pages"].values())
    report.line(
        f"  peak RSS per worker (MB): {', '.join(map(str, result['rss_mb'].values()))}"
        f" (after the load: {', '.join(map(str, result['rss_now_mb'].values()))});"
        f" wrk's own CPU share at most {share:.1%} of the machine"
    )


def summarise(results: dict, scales: list[int], report: Report) -> dict:
    small, large = results[scales[0]], results[scales[-1]]
    ours = [key for key, _what, _p in PAGES if not key.startswith("admin_")]
    report.line()
    report.line(f"Growth ratio: p50 at scale {scales[-1]} / p50 at scale {scales[0]}")
    growth = {}
    for key in ours:
        a, b = small["pages"][key]["p50_ms"], large["pages"][key]["p50_ms"]
        growth[key] = round(b / a, 2) if a else 0.0
        report.line(f"  {small['pages'][key]['what']:<34}{a:>9.1f}{b:>9.1f}{growth[key]:>8.2f}")
    report.line("Admin ratio: p50 of our page / p50 of the admin changelist, same model and filter")
    admin = {}
    for scale in scales:
        pages = results[scale]["pages"]
        for key, admin_key in ADMIN_PAIRS.items():
            a, b = pages[key]["p50_ms"], pages[admin_key]["p50_ms"]
            admin[f"{key}@{scale}"] = round(a / b, 2) if b else 0.0
            report.line(
                f"  scale {scale:<4} {pages[key]['what']:<32}{a:>9.1f}{b:>9.1f}"
                f"{admin[f'{key}@{scale}']:>8.2f}"
            )
    failures = sum(
        f["not_200"] + f["errors"] for r in results.values() for f in r["pages"].values()
    )
    if failures:
        report.line(f"WARNING: {failures} answers were not 200; their pages' figures mean little.")
    return {
        "growth": growth,
        "admin": admin,
        "p95_ms_max": round(
            max(f["p95_ms"] for r in results.values() for f in r["pages"].values())
        ),
        "growth_ratio_max": max(growth.values()),
        "admin_ratio_max": max(admin.values()),
        "rss_mb_max": round(max(v for r in results.values() for v in r["rss_mb"].values())),
        "not_200": failures,
    }


# --- the probe, inside Django against one bench database ---------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apu.settings")
    import django

    django.setup()


def choose_paths() -> tuple[dict, dict, dict]:
    """The users, their TOTP keys and each page's path, on the same objects at every scale."""
    from django.db.models import Count
    from django.utils import timezone

    from apu.models import User
    from coordination.models import Meeting
    from modules.models import Session
    from referrals.models import Course, Referral

    users = {name: User.objects.get(username=name) for name in (CLINICIAN, COORDINATOR, ADMIN)}
    users[RESEARCHER] = User.objects.get(username=RESEARCHER)
    keys = {name: ensure_device(user) for name, user in users.items() if user.needs_two_factor()}
    ballerup = users[COORDINATOR].municipality
    # The same objects at every scale: the lowest ids belong to the demo itself, and copies
    # only add rows after them.
    course = (
        Course.objects.filter(patient__municipality=ballerup, status=Course.Status.IN_TREATMENT)
        .annotate(n=Count("attendance"))
        .order_by("-n", "pk")
        .first()
    )
    referral = course.referral
    session = (
        Session.objects.filter(starts_at__lte=timezone.now())
        .annotate(n=Count("attendance"))
        .order_by("-n", "-starts_at", "pk")
        .first()
    )
    open_statuses = ",".join(Referral.OPEN_STATUSES)
    open_meetings = ",".join(Meeting.OPEN_STATUSES)
    paths = {
        "referral_worklist": "/referrals/",
        "referral_detail": f"/referrals/{referral.pk}/",
        "patient_search": f"/referrals/?q={referral.patient.cpr}&status=",
        "course_page": f"/courses/{course.pk}/",
        "course_page_coordinator": f"/courses/{course.pk}/",
        "meetings_clinic": "/meetings/",
        "meetings_coordinator": "/meetings/",
        "session_attendance": f"/sessions/{session.pk}/",
        "dashboard": "/dashboard/",
        "admin_referrals": f"/admin/referrals/referral/?status__in={open_statuses}",
        "admin_patient_search": f"/admin/referrals/patient/?q={referral.patient.cpr}",
        "admin_meetings": f"/admin/coordination/meeting/?status__in={open_meetings}",
        "admin_meetings_municipality": (
            f"/admin/coordination/meeting/?status__in={open_meetings}"
            f"&course__patient__municipality__id__exact={ballerup.pk}"
        ),
    }
    return users, keys, paths


def probe(port: int) -> None:
    """Pick the pages' objects, count each page's queries, log in over HTTP; print JSON."""
    setup_django()
    from django.db.models import Q

    from coordination.models import Meeting
    from evaluation.models import Measurement
    from modules.models import Attendance
    from referrals.models import Course, Patient, Referral

    users, keys, paths = choose_paths()
    pages = {}
    clients = {name: test_client_login(name, keys) for name in users}
    for key, _what, persona in PAGES:
        pages[key] = {"path": paths[key], "queries": count_queries(clients[persona], paths[key])}
    cookies = {name: http_login(port, name, keys) for name in users}
    counts = {
        "referrals": Referral.objects.count(),
        "courses": Course.objects.count(),
        "meetings": Meeting.objects.count(),
        "attendance rows": Attendance.objects.count(),
        "measurements": Measurement.objects.count(),
        "patients": Patient.objects.count(),
        "in treatment": Course.objects.filter(Q(status=Course.Status.IN_TREATMENT)).count(),
    }
    print(json.dumps({"pages": pages, "cookies": cookies, "counts": counts}))


def ensure_device(user) -> str:
    """A confirmed TOTP device for ``user``, as after enrolment; return its key."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True, name="bench").first()
    if device is None:
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    return device.key


def current_token(username: str, keys: dict) -> str | None:
    """This time step's code; the device forgets the last step used, so it is accepted again."""
    if username not in keys:
        return None
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, name="bench")
    # Each login of the benchmark uses the code of the current step; a real user logs in once.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_client_login(username: str, keys: dict):
    from django.test import Client

    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    if response.status_code != 302:
        sys.exit(f"Login of {username} failed in the probe ({response.status_code}).")
    token = current_token(username, keys)
    if token:
        response = client.post("/account/2fa/verify/", {"token": token})
        if response.status_code != 302:
            sys.exit(f"The TOTP step of {username} failed in the probe.")
    return client


def count_queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # the first request fills per-process caches (content types, ...)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    if response.status_code != 200:
        sys.exit(f"{path} answered {response.status_code} in the probe.")
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return len(queries)


def http_login(port: int, username: str, keys: dict) -> str:
    """Log in to the running server as a user would; return the Cookie header to send."""
    from http.cookies import SimpleCookie
    from urllib.parse import urlencode

    jar: dict[str, str] = {}

    def request(method: str, path: str, form: dict | None = None) -> int:
        conn = HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": jar.get("csrftoken", "")})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                jar[name] = morsel.value
        conn.close()
        return response.status

    request("GET", "/login/")
    if request("POST", "/login/", {"username": username, "password": PASSWORD}) != 302:
        sys.exit(f"Login of {username} to the server failed.")
    token = current_token(username, keys)
    if token:
        request("GET", "/account/2fa/verify/")
        if request("POST", "/account/2fa/verify/", {"token": token}) != 302:
            sys.exit(f"The TOTP step of {username} failed on the server.")
    if request("GET", "/") != 200:
        sys.exit(f"{username} is not logged in after the login steps.")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def explain(threshold_ms: float) -> None:
    """Print EXPLAIN ANALYZE of every query of the pages slower than ``threshold_ms``."""
    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    users, keys, paths = choose_paths()
    clients = {name: test_client_login(name, keys) for name in users}
    for key, what, persona in PAGES:
        client = clients[persona]
        client.get(paths[key])
        with CaptureQueriesContext(connection) as queries:
            client.get(paths[key])
        print(f"== {what}: {len(queries)} queries")
        for query in queries.captured_queries:
            if not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                plan = [row[0] for row in cursor.fetchall()]
            ms = float(plan[-1].split(":")[1].split()[0])  # "Execution Time: 1.234 ms"
            if ms >= threshold_ms:
                lines = "\n    ".join(plan)
                print(f"  {ms:.1f} ms: {query['sql'][:400]}\n    {lines}")


def profile(page_key: str) -> None:
    """Print a pyinstrument profile of one benchmarked page (its second request)."""
    setup_django()
    from pyinstrument import Profiler

    users, keys, paths = choose_paths()
    persona = next(p for key, _what, p in PAGES if key == page_key)
    client = test_client_login(persona, keys)
    client.get(paths[page_key])
    profiler = Profiler()
    with profiler:
        response = client.get(paths[page_key])
    print(response.status_code, paths[page_key])
    print(profiler.output_text(unicode=False, color=False))


def _bench_database_env(scale: int) -> None:
    os.environ.update(production_env(DatabaseServer().url(f"apu_bench_s{scale}")))
    os.environ["ALLOWED_HOSTS"] = "testserver"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "probe":
        probe(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "explain":
        # python scripts/bench.py explain SCALE [THRESHOLD_MS], against that bench database.
        _bench_database_env(int(sys.argv[2]))
        explain(float(sys.argv[3]) if len(sys.argv) > 3 else 5.0)
    elif len(sys.argv) > 1 and sys.argv[1] == "profile":
        # python scripts/bench.py profile SCALE PAGE, e.g. profile 100 course_page.
        _bench_database_env(int(sys.argv[2]))
        profile(sys.argv[3])
    else:
        sys.exit(main(sys.argv[1:]))
