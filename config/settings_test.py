from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LANGUAGE_CODE = "en"
# Tests and benchmarks talk plain HTTP through the test client, even with DEBUG=0.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
# Background tasks run at once, in the request, so tests see their result.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
WEBHOOKS_ALLOW_HTTP = True  # the tests run their receivers on http://127.0.0.1
