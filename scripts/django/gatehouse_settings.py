"""Settings for running the seed Django deployment (../shared/django-ref) in
Gatehouse's `django` CI stage: the seed's own settings, with every password
hasher that Gatehouse verifies enabled, so that `make_password(pw,
hasher=...)` works for each (Django's default list has no plain bcrypt and
no MD5). The seed's tree is read-only: this module overrides, never edits."""

from config.settings import *  # noqa: F401,F403  (the seed's settings)

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]
