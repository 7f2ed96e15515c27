"""A WSGI app with one request that never ends in time, to try gunicorn's limits on."""

import time


def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(600)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
