"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Sync workers serve one request each at a time; deploy/nginx.conf in front buffers every request
body in full, so a slow client never holds a worker.
"""

import multiprocessing

# Only nginx on this machine talks to gunicorn.
bind = "127.0.0.1:8000"
# Two per core and one more: requests mostly wait on the database and Stripe.
workers = multiprocessing.cpu_count() * 2 + 1
worker_class = "sync"
# A request taking longer than this is killed and its worker replaced.
timeout = 30
graceful_timeout = 30
# nginx keeps connections to us open between requests (upstream keepalive).
keepalive = 5
# Recycle workers now and then, so a slow leak can never grow without bound.
max_requests = 2000
max_requests_jitter = 200
# Log to stderr, for journald or the process supervisor.
accesslog = "-"
errorlog = "-"
