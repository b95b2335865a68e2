"""The `django` CI stage's driver (scripts/test-django.sh runs it in the seed's
venv): the seed Django deployment → dumpdata → `gatehouse import-django` →
the same frontends' keys and users' passwords against gatehouse.

Only the standard library and the seed's own venv; every step says what it
checks, and the first failed check stops the run with its reason."""

import argparse
import datetime
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "Migrate-Me-2026!"
OLD = "Old-Django-Pass-7!"
# One creator per Django hasher Gatehouse verifies, and two it cannot.
HASHERS = ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt"]
SECRET_KEY = "django-ref-ci-secret-key-for-the-migration-stage-0123456789"
T0 = time.monotonic()


def log(msg):
    print(f"[django {time.monotonic() - T0:5.1f}s] {msg}", flush=True)


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    log(f"ok: {what}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(base, client, method, path, body=None, bearer=None):
    headers = {"X-Client-ID": client["client_id"], "X-API-Key": client["api_key"]}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw) if raw else None
        except ValueError:
            return e.code, raw.decode(errors="replace")


def wait_http(url, proc, what):
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"FAILED: {what} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"FAILED: {what} did not start")


class Seed:
    """The seed deployment, run from its read-only tree with our settings."""

    def __init__(self, ref, work):
        self.ref = ref
        self.env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join([HERE, ref]),
            DJANGO_SETTINGS_MODULE="gatehouse_settings",
            DJANGO_DB_PATH=os.path.join(work, "seed.sqlite3"),
            DJANGO_SECRET_KEY=SECRET_KEY,
            PYTHONDONTWRITEBYTECODE="1",
        )

    def manage(self, *args, stdin=None):
        r = subprocess.run(
            [sys.executable, os.path.join(self.ref, "manage.py"), *args],
            env=self.env, cwd=self.ref, input=stdin, capture_output=True, text=True,
        )
        if r.returncode != 0:
            raise SystemExit(f"FAILED: manage.py {' '.join(args)}:\n{r.stdout}\n{r.stderr}")
        return r.stdout

    def serve(self, port, logfile):
        return subprocess.Popen(
            [sys.executable, os.path.join(self.ref, "manage.py"), "runserver", "--noreload",
             f"127.0.0.1:{port}"],
            env=self.env, cwd=self.ref, stdout=logfile, stderr=subprocess.STDOUT,
        )


def gatehouse(binary, db, *args):
    return subprocess.run([binary, "--database-url", db, *args], capture_output=True, text=True)


def stored_hashes(db):
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("SELECT email_normalized, password_hash FROM users"))
    finally:
        con.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    seed = Seed(a.ref, a.work)

    # --- the seed: schema, clients, staff (its management commands)
    seed.manage("migrate", "--noinput")
    web = json.loads(seed.manage("create_api_client", "--name", "Creator Web App", "--type", "web",
                                 "--rate-limit", "100000", "--json"))
    mobile = json.loads(seed.manage("create_api_client", "--name", "Mobile", "--type", "mobile",
                                    "--rate-limit", "5000", "--json"))
    seed.manage("create_user", "--type", "staff", "--email", "staff@example.com", "--username",
                "staffer", "--password", PASSWORD, "--first-name", "Sam", "--last-name", "Staff")
    seed.manage("create_user", "--type", "admin", "--email", "Boss@Example.com", "--username",
                "boss", "--password", PASSWORD)
    log("seed: migrated; 2 clients, 1 staff, 1 admin")

    # --- creators register through the seed's API; one holds live tokens
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    seedlog = open(os.path.join(a.work, "seed.log"), "w")
    proc = seed.serve(port, seedlog)
    try:
        wait_http(base + "/api/schema/", proc, "the seed")
        names = [f"c_{h}" for h in HASHERS] + ["c_md5", "c_unusable", "holder"]
        for n in names:
            st, body = call(base, web, "POST", "/api/auth/register/", {
                "email": f"{n}@example.com", "username": n, "password": PASSWORD,
                "password2": PASSWORD, "first_name": n, "last_name": "Creator"})
            if st != 201:
                raise SystemExit(f"FAILED: seed register {n}: {st} {body}")
        log(f"seed: {len(names)} creators registered through its API")
        st, held = call(base, web, "POST", "/api/auth/token/",
                        {"email": "holder@example.com", "password": PASSWORD})
        check(st == 200, "seed login holds an access and a refresh token")
        st, other = call(base, mobile, "POST", "/api/auth/token/",
                         {"email": "holder@example.com", "password": PASSWORD})
        st, _ = call(base, mobile, "POST", "/api/auth/logout/", {"refresh": other["refresh"]},
                     bearer=other["access"])
        check(st == 205, "seed logout blacklists a second refresh token")
        st, _ = call(base, web, "GET", "/api/auth/profile/", bearer=held["access"])
        check(st == 200, "the held seed access token works on the seed")
    finally:
        proc.terminate()
        proc.wait(10)
        seedlog.close()

    # --- passwords with each hasher (Django's own make_password)
    script = "\n".join([
        "from django.contrib.auth.hashers import make_password",
        "from customauth.models import User",
        *[f"User.objects.filter(username='c_{h}').update(password=make_password({OLD!r}, hasher='{h}'))"
          for h in HASHERS],
        f"User.objects.filter(username='c_md5').update(password=make_password({OLD!r}, hasher='md5'))",
        "u = User.objects.get(username='c_unusable'); u.set_unusable_password(); u.save()",
        "print(dict(User.objects.values_list('username', 'password')))",
    ])
    out = seed.manage("shell", "-c", script)
    log("seed: passwords set with " + ", ".join(HASHERS + ["md5", "unusable"]))
    check("bcrypt_sha256$" in out and "scrypt$" in out and "argon2$argon2id" in out,
          "the seed stores every hasher's format")

    dump = os.path.join(a.work, "dump.json")
    seed.manage("dumpdata", "--output", dump)
    log(f"seed: dumpdata ({os.path.getsize(dump)} bytes)")

    # --- import: dry run, import, re-import
    db = os.path.join(a.work, "gatehouse.db")
    r = gatehouse(a.bin, db, "import-django", dump, "--dry-run")
    check(r.returncode == 0, f"import-django --dry-run succeeds {r.stderr}")
    plan = json.loads(r.stdout)
    check(plan["dry_run"] and plan["users"]["new"] == len(names) + 2,
          f"the dry run plans {len(names) + 2} users")
    check(stored_hashes(db) == {}, "the dry run writes no user")
    r = gatehouse(a.bin, db, "import-django", dump)
    check(r.returncode == 0, f"import-django succeeds {r.stderr}")
    rep = json.loads(r.stdout)
    log("import report: " + json.dumps({k: rep[k] for k in ("users", "legacy_refresh_tokens",
                                                             "django_hashes", "elapsed_ms")}))
    check(rep["users"]["new"] == len(names) + 2 and len(rep["clients"]["new"]) == 2,
          "every user and client is imported")
    check(rep["legacy_refresh_tokens"]["new_blacklisted"] >= 1,
          "the blacklisted refresh token is imported as blacklisted")
    reset = sorted(u["email"] for u in rep["need_password_reset"])
    check(reset == ["c_md5@example.com", "c_unusable@example.com"],
          f"the report lists the users needing a reset: {reset}")
    before = stored_hashes(db)
    r = gatehouse(a.bin, db, "import-django", dump)
    check(r.returncode == 0 and json.loads(r.stdout)["changes_nothing"],
          "a second import changes nothing (and says so)")
    broken = json.load(open(dump))
    broken.append({"model": "token_blacklist.outstandingtoken", "pk": 999999,
                   "fields": {"user": 424242, "jti": "x", "token": "x",
                              "created_at": None, "expires_at": "2030-01-01T00:00:00Z"}})
    bad = os.path.join(a.work, "broken.json")
    json.dump(broken, open(bad, "w"))
    r = gatehouse(a.bin, db, "import-django", bad)
    check(r.returncode != 0 and "outstandingtoken pk=999999" in r.stderr,
          "an inconsistent dump is refused naming the record")
    check(stored_hashes(db) == before, "and nothing is written")

    # --- gatehouse with the same keys
    legacy = "--django-signing-key" in gatehouse(a.bin, db, "serve", "--help").stdout
    gport = free_port()
    gbase = f"http://127.0.0.1:{gport}"
    env = dict(os.environ)
    if legacy:
        until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        env["GATEHOUSE_DJANGO_SIGNING_KEY"] = SECRET_KEY
        env["GATEHOUSE_LEGACY_TOKENS_UNTIL"] = until.strftime("%Y-%m-%dT%H:%M:%SZ")
    glog = open(os.path.join(a.work, "gatehouse.log"), "w")
    gh = subprocess.Popen([a.bin, "--database-url", db, "serve", "--addr", f"127.0.0.1:{gport}"],
                          env=env, stdout=glog, stderr=subprocess.STDOUT)
    try:
        wait_http(gbase + "/healthz", gh, "gatehouse")
        for h in HASHERS:
            email = f"c_{h}@example.com"
            st, body = call(gbase, web, "POST", "/api/auth/token/", {"email": email, "password": "wrong-" + OLD})
            check(st == 401 and body["code"] == "no_active_account", f"{h}: a wrong password fails")
            check(stored_hashes(db)[email] == before[email], f"{h}: and the Django hash stays")
            st, body = call(gbase, web, "POST", "/api/auth/token/", {"email": email, "password": OLD})
            check(st == 200 and "access" in body, f"{h}: the old password logs in")
            check(stored_hashes(db)[email].startswith("$argon2id$"), f"{h}: the hash is Argon2id now")
            st, _ = call(gbase, web, "GET", "/api/auth/profile/", bearer=body["access"])
            check(st == 200, f"{h}: the new access token works")
        con = sqlite3.connect(db)
        n = con.execute("SELECT count(*) FROM audit_events WHERE event = 'password.rehashed'").fetchone()[0]
        con.close()
        check(n == len(HASHERS), "each rehash is audited once")
        for who in ["c_md5", "c_unusable"]:
            st, body = call(gbase, web, "POST", "/api/auth/token/",
                            {"email": f"{who}@example.com", "password": OLD})
            check(st == 401 and body["code"] == "password_reset_required",
                  f"{who}: told to reset the password")
        st, _ = call(gbase, mobile, "POST", "/api/auth/token/",
                     {"email": "staff@example.com", "password": PASSWORD})
        check(st == 200, "staff (pbkdf2_sha256, Django's default) log in through an imported client")
        st, _ = call(gbase, web, "POST", "/api/auth/token/",
                     {"email": "boss@example.com", "password": PASSWORD})
        check(st == 200, "the admin logs in by the normalised email")

        if legacy:
            st, body = call(gbase, web, "GET", "/api/auth/profile/", bearer=held["access"])
            check(st == 200 and body.get("email") == "holder@example.com",
                  "the held seed access token works on gatehouse's profile")
            st, body = call(gbase, web, "POST", "/api/auth/token/refresh/", {"refresh": held["refresh"]})
            check(st == 200 and "refresh" in body, "the held seed refresh token is exchanged")
            st, _ = call(gbase, web, "POST", "/api/auth/token/refresh/", {"refresh": held["refresh"]})
            check(st == 401, "a second exchange of it is refused")
            st, _ = call(gbase, web, "POST", "/api/auth/token/refresh/", {"refresh": other["refresh"]})
            check(st == 401, "the refresh token blacklisted in Django is refused")
        else:
            log("SKIPPED: legacy seed tokens (gatehouse serve has no --django-signing-key yet)")
    finally:
        gh.terminate()
        gh.wait(10)
        glog.close()

    after = stored_hashes(db)
    r = gatehouse(a.bin, db, "import-django", dump)
    check(r.returncode == 0 and json.loads(r.stdout)["changes_nothing"] and stored_hashes(db) == after,
          "re-importing after the logins changes nothing (no rehash undone)")
    log("django stage passed")


if __name__ == "__main__":
    main()
