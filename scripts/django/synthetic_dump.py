"""Writes a synthetic `dumpdata` of the seed deployment for timing the
import: N users (Django PBKDF2-SHA256 hashes, well-formed but not made by
hashing: the import never hashes), N outstanding refresh tokens (one per
user, every tenth blacklisted) and one API client.

    python3 scripts/django/synthetic_dump.py 10000 > /tmp/dump.json
    time gatehouse --database-url /tmp/gh.db import-django /tmp/dump.json
"""

import base64
import hashlib
import json
import sys
import uuid

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
out = [{"model": "apiclients.apiclient", "pk": 1, "fields": {
    "name": "Creator Web App", "client_type": "web", "client_id": str(uuid.UUID(int=1)),
    "key_prefix": "sk_0000000", "key_hash": hashlib.sha256(b"sk_synthetic").hexdigest(),
    "rate_limit": 1000, "is_active": True, "description": "",
    "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}}]
for i in range(1, n + 1):
    h = base64.b64encode(hashlib.sha256(str(i).encode()).digest()).decode()
    out.append({"model": "customauth.user", "pk": i, "fields": {
        "password": f"pbkdf2_sha256$1000000$salt{i:06d}$" + h,
        "last_login": "2026-11-30T12:00:00.123Z", "is_superuser": False,
        "username": f"user{i}", "first_name": "First", "last_name": f"Last{i}",
        "email": f"User{i}@Example.com", "is_staff": False, "is_active": True,
        "date_joined": "2026-01-02T03:04:05.678Z", "user_type": "creator",
        "is_email_verified": False, "email_verified_at": None,
        "updated_at": "2026-11-30T12:00:00Z", "groups": [], "user_permissions": []}})
for i in range(1, n + 1):
    out.append({"model": "token_blacklist.outstandingtoken", "pk": i, "fields": {
        "user": i, "jti": uuid.UUID(int=i).hex, "token": "eyJ...",
        "created_at": "2026-12-01T00:00:00Z", "expires_at": "2026-12-08T00:00:00Z"}})
for i in range(10, n + 1, 10):
    out.append({"model": "token_blacklist.blacklistedtoken", "pk": i // 10, "fields": {
        "token": i, "blacklisted_at": "2026-12-02T00:00:00Z"}})
json.dump(out, sys.stdout)
