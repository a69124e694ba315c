# gunicorn settings for `make run` and `make bench`: `gunicorn -c config/gunicorn.py wsgi:app`.
# Each can be overridden on the command line or with GUNICORN_CMD_ARGS.
import os
import shutil
import tempfile

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Sync workers keep the load even across processes (threaded workers with
# keep-alive let one process hold most connections). They wait idle during
# database round trips, so two per core keep the cores busy: with four on two
# cores, logins per second rose by a third over two, at the same rate of
# client-credentials grants.
worker_class = "sync"
workers = int(os.environ.get("WORKERS", "4"))
accesslog = "-" if os.environ.get("ACCESS_LOG") else None
# Method, path (without the query), status, bytes, time, duration and the
# request id only: the query of a mailed link's page (reset, unlock) carries a
# one-time ticket, and neither it nor a Referer that may hold one belongs in a
# log. The provider's own JSON line per request (stderr) says more.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss %({x-request-id}o)s'

# Prometheus multiprocess mode: every worker writes its counts to files in one
# folder that a scrape of any worker adds up. The folder must be named before a
# worker imports prometheus_client; this file runs in the master first. An
# operator's own PROMETHEUS_MULTIPROC_DIR is used as it is.
_OWN_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="idp-metrics-")


def on_starting(server):
    # Counts of a previous run would be added to this one's.
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.unlink(os.path.join(folder, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

# SIGTERM (a deploy, the init system stopping the node) closes the listening
# socket at once and lets each worker finish the request it is serving: a
# sign-in in its argon2id verify, a token request in its commit. A worker
# still busy after graceful_timeout seconds is killed. Take the node out of
# the reverse proxy's pool before stopping it, so that no request waits in the
# closed socket's queue (docs/deploy.md).
graceful_timeout = 30
