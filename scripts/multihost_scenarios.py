#!/usr/bin/env python3
"""The scenarios of scripts/test-multihost.sh (stdlib only).

   multihost_scenarios.py MODE [ARG]
MODE: scenarios-before-failover | primary-down | primary-back | writes |
check-acked FILE. Environment: GATEHOUSE_BIN, DB_URL (the primary), LB (nginx),
WORK (state between modes), REUSE_GRACE (seconds, as the hosts were started).
Each check prints what it measured and exits non-zero when a promise fails.
"""

import concurrent.futures
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

BIN = os.environ["GATEHOUSE_BIN"]
DB_URL = os.environ["DB_URL"]
LB = os.environ["LB"]
WORK = os.environ["WORK"]
GRACE = float(os.environ.get("REUSE_GRACE", "2"))
HOSTS = {h: f"http://10.77.{h}.2:18440" for h in (1, 2, 3)}
PASSWORD = "Correct-Horse-7-Battery"
STATE = os.path.join(WORK, "state.json")
_local = threading.local()


def fail(msg):
    print(f"multihost: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def conn(base):
    """One keep-alive connection per thread and base URL."""
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    if base not in pool:
        u = urllib.parse.urlparse(base)
        pool[base] = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
    return pool[base]


def call(base, method, path, client=None, token=None, body=None):
    headers = {}
    if client:
        headers["X-API-Key"] = client["api_key"]
        headers["X-Client-ID"] = client["client_id"]
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    for attempt in (0, 1):
        c = conn(base)
        try:
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            raw = r.read()
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode(errors="replace")
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), payload
        except (OSError, http.client.HTTPException):
            c.close()
            _local.pool.pop(base, None)
            if attempt:
                return 0, {}, None
    return 0, {}, None


def cli(*args):
    out = subprocess.run(
        [BIN, "--database-url", DB_URL, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out) if "--json" in args else out


def new_client(name, rate_limit=100000):
    return cli("create-api-client", "--name", f"{name}-{time.time_ns()}", "--type", "web",
               "--rate-limit", str(rate_limit), "--json")


def register(base, client, email):
    return call(base, "POST", "/api/auth/register/", client, body={
        "email": email, "username": email.split("@")[0].replace(".", "_")[:30],
        "password": PASSWORD, "password2": PASSWORD})


def login(base, client, email, password=PASSWORD):
    return call(base, "POST", "/api/auth/token/", client, body={"email": email, "password": password})


def refresh(base, client, token):
    return call(base, "POST", "/api/auth/token/refresh/", client, body={"refresh": token})


def user(client, tag):
    email = f"mh-{tag}-{time.time_ns()}@example.com"
    s, _, b = register(LB, client, email)
    if s != 201:
        fail(f"register {email}: {s} {b}")
    return email


def save(**kv):
    state = {}
    if os.path.exists(STATE):
        state = json.load(open(STATE))
    state.update(kv)
    json.dump(state, open(STATE, "w"))


def load():
    return json.load(open(STATE))


# ------------------------------------------------------------------ scenarios

def shared_limit():
    """A client limited to 1,000/hour, flooded through nginx (3 hosts)."""
    print("== 2. shared limits across the three hosts")
    client = new_client("mh-limit", 1000)
    # Setup on a client of its own, so the flood's budget is untouched.
    setup = new_client("mh-limit-setup")
    email = user(setup, "limit")
    s, _, pair = login(LB, setup, email)
    if s != 200:
        fail(f"login: {s} {pair}")
    access = pair["access"]
    statuses = {}
    lock = threading.Lock()

    def hit(_):
        s, _, _ = call(LB, "GET", "/api/auth/profile/", client, token=access)
        with lock:
            statuses[s] = statuses.get(s, 0) + 1

    t = time.time()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(hit, range(1500)))
    took = time.time() - t
    admitted = statuses.get(200, 0)
    # What GCRA alone would earn in the flood's duration, on top of the burst.
    earned = int(took / 3.6) + 1
    print(f"   1,500 requests in {took:.1f}s: {statuses} -> admitted {admitted} "
          f"(limit 1000, +{earned} earned while flooding; error {admitted - 1000 - earned:+d})")
    if admitted > 1100:
        fail(f"admitted {admitted} > 1100")
    if admitted < 900:
        fail(f"admitted {admitted} < 900: the slices starve the client")
    if set(statuses) - {200, 429}:
        fail(f"unexpected statuses {statuses}")

    # Failed-login throttle (10 per account and IP in 15 minutes) across hosts.
    email = user(setup, "guess")
    counts = {}
    for _ in range(25):
        s, _, _ = login(LB, setup, email, "wrong-password-1")
        counts[s] = counts.get(s, 0) + 1
    print(f"   25 wrong passwords for one account through nginx: {counts} (limit 10)")
    if counts.get(401, 0) > 12 or counts.get(429, 0) == 0:
        fail(f"failed-login throttle across hosts: {counts}")
    save(limit_admitted=admitted, guesses_admitted=counts.get(401, 0))


def propagation():
    """A change on the primary reaches every host: deactivation and rotation."""
    print("== 3. propagation of changes to every host")
    client = new_client("mh-prop")
    # The profile without a token: past the API-key gate, 401 for want of a
    # login; 403 `client_inactive` once the client is deactivated.
    for h, base in HOSTS.items():
        s, _, b = call(base, "GET", "/api/auth/profile/", client)
        if s != 401 or (b or {}).get("code") == "api_key_invalid":
            fail(f"host {h} refuses a fresh client: {s} {b}")
    seen = {}

    def watch(h, base, since):
        deadline = since + 5
        while time.time() < deadline:
            s, _, b = call(base, "GET", "/api/auth/profile/", client)
            if s == 403:
                seen[h] = time.time() - since
                return
            time.sleep(0.005)

    since = time.time()
    cli("clients", "deactivate", client["client_id"], "--json")
    threads = [threading.Thread(target=watch, args=(h, b, since)) for h, b in HOSTS.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    worst = max(seen.values()) if len(seen) == 3 else None
    print("   deactivation seen by each host after: "
          + ", ".join(f"host {h} {seen[h] * 1000:.0f} ms" for h in sorted(seen))
          + " (measured from the CLI's return)")
    if worst is None or worst > 1.0:
        fail(f"deactivation did not reach every host within 1 s: {seen}")
    save(propagation_ms=round(worst * 1000))


def refresh_chain():
    """A rotation on one host is the parent on every other; the grace holds."""
    print("== 4. a refresh chain across hosts")
    client = new_client("mh-refresh")
    email = user(client, "chain")
    s, _, p1 = login(HOSTS[1], client, email)
    if s != 200:
        fail(f"login on host 1: {s} {p1}")
    s, _, p2 = refresh(HOSTS[2], client, p1["refresh"])
    if s != 200:
        fail(f"host 2 refreshing host 1's token: {s} {p2}")
    s, _, again = refresh(HOSTS[3], client, p1["refresh"])
    if s != 200 or again.get("refresh") != p2["refresh"]:
        fail(f"host 3, the parent inside the grace: {s} {again} (want host 2's refresh again)")
    s, _, p3 = refresh(HOSTS[1], client, p2["refresh"])
    if s != 200:
        fail(f"host 1 rotating host 2's token: {s} {p3}")
    print("   login on 1, rotated on 2, parent reissued on 3 (the same token), rotated on 1")
    time.sleep(GRACE + 0.5)  # the wall-clock grace itself, not a synchronisation
    s, _, b = refresh(HOSTS[2], client, p1["refresh"])
    if s != 401:
        fail(f"a grandparent after the grace on host 2: {s} {b} (want 401)")
    s, _, b = refresh(HOSTS[3], client, p3["refresh"])
    if s != 401:
        fail(f"the family after a replay, on host 3: {s} {b} (want 401: revoked)")
    print(f"   after the {GRACE:.0f} s grace: replay refused on 2, family revoked on 3")


def before_failover():
    shared_limit()
    propagation()
    refresh_chain()
    # For the failover: a signed-in user and a client for reads.
    client = new_client("mh-failover")
    email = user(client, "reader")
    s, _, pair = login(LB, client, email)
    if s != 200:
        fail(f"login: {s}")
    # Every host has the login before the primary goes (a host that had not
    # caught up yet catches up here, as it would on any miss).
    for hid, base in HOSTS.items():
        s, _, b = call(base, "GET", "/api/auth/profile/", client, token=pair["access"])
        if s != 200:
            fail(f"profile on host {hid}: {s} {b}")
    save(client=client, access=pair["access"])


def primary_down():
    st = load()
    client, access = st["client"], st["access"]
    statuses = []
    for i in range(3):
        s, h, b = register(LB, client, f"mh-down-{i}-{time.time_ns()}@example.com")
        statuses.append(s)
        if s != 503 or "retry-after" not in h:
            fail(f"a write with the primary down: {s} {h.get('retry-after')} {b} (want 503 + Retry-After)")
    for hid, base in HOSTS.items():
        s, _, b = call(base, "GET", "/api/auth/profile/", client, token=access)
        if s != 200:
            fail(f"a read on host {hid} with the primary down: {s} {b}")
    print(f"   primary down: writes {statuses} with Retry-After; profile reads 200 on all 3 hosts")


def primary_back():
    st = load()
    client = st["client"]
    t = time.time()
    seen = []
    while time.time() - t < 30:
        s, _, _ = register(LB, client, f"mh-back-{time.time_ns()}@example.com")
        seen.append(s)
        if s == 500:
            fail("a 500 while the primary came back")
        if s == 201:
            print(f"   primary back: writes succeed {time.time() - t:.1f}s after its restart "
                  f"(answers meanwhile: {sorted(set(seen))}), no host restarted")
            return
        time.sleep(0.2)
    fail(f"writes did not recover within 30 s: {sorted(set(seen))}")


def writes():
    st = load()
    client = st["client"]
    for i in range(60):
        email = f"mh-kill-{i}-{time.time_ns()}@example.com"
        s, _, _ = register(LB, client, email)
        if s == 201:
            print(email, flush=True)
        elif s == 500:
            fail("a 500 during the kill")


def check_acked(path):
    acked = [line.strip() for line in open(path) if line.strip()]
    u = urllib.parse.urlparse(DB_URL)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    body = json.dumps({"requests": [{"type": "execute", "stmt": {
        "sql": "SELECT email FROM users WHERE email LIKE 'mh-kill-%'"}}, {"type": "close"}]})
    c.request("POST", "/v2/pipeline", body=body, headers={"Content-Type": "application/json"})
    r = json.loads(c.getresponse().read())
    rows = r["results"][0]["response"]["result"]["rows"]
    stored = {row[0]["value"] for row in rows}
    lost = [e for e in acked if e not in stored]
    print(f"   {len(acked)} registrations acknowledged around the kill, {len(stored)} stored, lost {len(lost)}")
    if lost or len(acked) < 20:
        fail(f"lost {lost}" if lost else f"only {len(acked)} acknowledged")


MODES = {
    "scenarios-before-failover": before_failover,
    "primary-down": primary_down,
    "primary-back": primary_back,
    "writes": writes,
}

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "check-acked":
        check_acked(sys.argv[2])
    else:
        MODES[mode]()
