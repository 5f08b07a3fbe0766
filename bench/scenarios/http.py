"""HTTP load: signed-in users browsing lists, contact pages and search against the app served by gunicorn
as in production (crm/gunicorn.conf.py), driven by a small client of threads over http.client
(no load tool is in the requirements). It reports requests per second and the latency percentiles.

On a 2-core machine the client's threads share the cores with gunicorn and PostgreSQL, so the figure
is a lower bound of what the app does with the machine to itself."""

import http.client
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from django.conf import settings

from bench.harness import Measure, percentile, scenario

USERS = 20
SECONDS_SMALL = 8
SECONDS_FULL = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _session_cookie(user) -> str:
    """A signed-in session for `user`, as django.contrib.auth.login would store it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


class Server:
    """gunicorn on a free local port, started and stopped by the scenario (its own process group)."""

    def __init__(self):
        self.port = _free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(settings.BASE_DIR / "crm" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--access-logfile",
            "/dev/null",
            "crm.wsgi",
        ]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        # gunicorn's log goes to a file: a pipe nobody reads would fill and stop the workers mid-write
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - open while the server runs, closed by stop()
        self.process = subprocess.Popen(  # noqa: S603 - gunicorn of this virtualenv
            command,
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped: {self.log_tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/accounts/login/")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not answer within a minute")

    def log_tail(self, size: int = 3000) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-size:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def _urls(env, rng: random.Random) -> list[str]:
    """The pages a rep or manager opens in a working day, in proportion."""
    markers = env.markers
    owner = markers["top_rep_id"]
    ids = [
        row[0] for row in env.sql("SELECT id FROM contacts_contact WHERE owner_id = %s ORDER BY id LIMIT 2000", [owner])
    ]
    urls = []
    for _ in range(400):
        roll = rng.random()
        if roll < 0.3:
            phase = rng.choice(["retention", "acquisition", "extension"])
            urls.append(f"/contacts/?{urllib.parse.urlencode({'phase': phase, 'owner': owner, 'sort': '-activity'})}")
        elif roll < 0.6 and ids:
            urls.append(f"/contacts/{rng.choice(ids)}/")
        elif roll < 0.75 and ids:
            urls.append(f"/contacts/{rng.choice(ids)}/work/")
        else:
            typed = rng.choice(["kulkarn", "sharma", "शर्मा", "gowda", "ghosh", "reddy"])
            urls.append(f"/contacts/?{urllib.parse.urlencode({'q': typed})}")
    return urls


def load(*, port: int, cookies: list[str], urls: list[str], seconds: float) -> dict:
    """Every user requests pages one after the other, on its own keep-alive connection, for `seconds`."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def user(n: int):
        rng = random.Random(n)  # noqa: S311 - which page to open next
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, failed = [], []
        while time.monotonic() < stop_at:
            url = rng.choice(urls)
            started = time.perf_counter()
            try:
                connection.request("GET", url, headers={"Cookie": cookies[n % len(cookies)]})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed.append(f"{response.status} {url}")
            except (OSError, http.client.HTTPException) as error:
                failed.append(f"{type(error).__name__} {url}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(len(cookies))]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {"latencies": latencies, "errors": errors, "seconds": elapsed}


@scenario(
    "http.mixed", f"HTTP: {USERS} users on lists, contact pages and search (gunicorn)", repeat=1, warmup=0, heavy=True
)
def http_mixed(env) -> Measure:
    user = env.user(env.markers["manager_username"])
    cookies = [_session_cookie(user) for _ in range(USERS)]
    urls = _urls(env, random.Random(env.stamp.get("seed", 1)))  # noqa: S311
    seconds = SECONDS_FULL if env.full_size else SECONDS_SMALL
    server = Server()

    def run():
        # every gunicorn worker loads the app on its first requests: warm them all before measuring
        load(port=server.port, cookies=cookies, urls=urls, seconds=max(3, seconds // 3))
        done = load(port=server.port, cookies=cookies, urls=urls, seconds=seconds)
        latencies = done["latencies"]
        if not latencies:
            raise RuntimeError("no request finished")
        return {
            "samples": latencies,
            "rate_per_s": len(latencies) / done["seconds"],
            "details": {
                "requests": len(latencies),
                "errors": len(done["errors"]),
                "first_errors": done["errors"][:5],
                "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
                "users": USERS,
                "seconds": round(done["seconds"], 1),
                "server_log": server.log_tail(1500) if done["errors"] else "",
            },
        }

    def cleanup():
        server.stop()
        from django.contrib.sessions.models import Session

        Session.objects.filter(session_key__in=[cookie.split("=", 1)[1] for cookie in cookies]).delete()

    return Measure(run=run, cleanup=cleanup, notes=[f"{USERS} users for {seconds} s; the client shares the machine"])
