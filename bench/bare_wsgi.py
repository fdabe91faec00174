"""The yardstick for bench/checkin_bench.py: a bare Flask app whose one endpoint answers a
constant, served by gunicorn with the same settings as the real app.

    gunicorn -c deploy/gunicorn.conf.py --pythonpath bench bare_wsgi:app
"""

from flask import Flask, jsonify

app = Flask(__name__)


@app.post("/mobile/v1/checkins")
@app.post("/mobile/v1/signals")
def constant():
    """A constant answer, shaped like a check-in's, whatever was posted."""
    return jsonify(id=1, status="accepted", flags=[], window=None), 201
