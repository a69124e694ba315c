# gunicorn settings for `make run` and `make bench`: `gunicorn -c config/gunicorn.py wsgi:app`.
# Each can be overridden on the command line or with GUNICORN_CMD_ARGS.
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Sync workers keep the load even across processes (threaded workers with
# keep-alive let one process hold most connections). They wait idle during
# database round trips, so two per core keep the cores busy: with four on two
# cores, logins per second rose by a third over two, at the same rate of
# client-credentials grants.
worker_class = "sync"
workers = int(os.environ.get("WORKERS", "4"))
accesslog = "-" if os.environ.get("ACCESS_LOG") else None
# Method, path (without the query), status, bytes, time and duration only: the
# query of a mailed link's page (reset, unlock) carries a one-time ticket, and
# neither it nor a Referer that may hold one belongs in a log.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
# SIGTERM (a deploy, the init system stopping the node) closes the listening
# socket at once and lets each worker finish the request it is serving: a
# sign-in in its argon2id verify, a token request in its commit. A worker
# still busy after graceful_timeout seconds is killed. Take the node out of
# the reverse proxy's pool before stopping it, so that no request waits in the
# closed socket's queue (docs/deploy.md).
graceful_timeout = 30
