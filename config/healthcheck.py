"""The container's health check: `python -m config.healthcheck` exits 0 when /health/ is ok.

Run as a module from the project root: run as a file, its folder would come first on the
import path, and config/logging.py would stand in for the standard library's logging.

The image has no curl, so Python's urllib asks. The request goes to gunicorn directly over
plain HTTP (/health/ is exempt from the HTTPS redirect) and names the first of
ALLOWED_HOSTS as its host: the app refuses host names it doesn't serve with a 400.
"""

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping


def health_request(environ: Mapping[str, str]) -> urllib.request.Request:
    port = environ.get("PORT") or "8000"
    host = (environ.get("ALLOWED_HOSTS") or "localhost").split(",")[0].strip()
    # ".example.com" allows the domain and its subdomains; "*" allows any host.
    host = host.lstrip(".") if host not in ("", "*") else "localhost"
    return urllib.request.Request(f"http://127.0.0.1:{port}/health/", headers={"Host": host})


def main() -> int:
    try:
        with urllib.request.urlopen(health_request(os.environ), timeout=5) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:  # HTTPError (503) is a URLError
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
