"""The web processes behind nginx (deploy/nginx): `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Run the app with PROXY_COUNT=1: nginx is the one proxy in front and the only client that can
reach this address. gunicorn (20.1 and later) names itself in its Server header without a
version, and nginx does not pass that header on.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# gunicorn's own advice for sync workers, (2 x cores) + 1: a worker waiting for the database
# leaves its core to another (docs/performance.md measured 4, 5 and 8 on two cores).
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
timeout = 60
accesslog = "-"

# nginx is the one limit on request sizes: its refusals are in the CONTRACT's error shape.
# gunicorn's own limits are lower than nginx's by default (a 4094-byte request line, 100
# headers) and would answer some requests nginx let through with a bare 400 of their own.
limit_request_line = 0
limit_request_field_size = 0
limit_request_fields = 32768
