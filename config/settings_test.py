from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LANGUAGE_CODE = "en"
# Tests and benchmarks talk plain HTTP through the test client, even with DEBUG=0.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
# Background tasks run at once, in the request, so tests see their result.
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "analysis"],
    }
}
WEBHOOKS_ALLOW_HTTP = True  # the tests run their receivers on http://127.0.0.1
# API rates high enough for the test suite's many calls with one token (the cache is not
# cleared between tests); the rate limit tests set their own.
API_RATE_READ = API_RATE_WRITE = API_RATE_ANON = "100000/min"
