# One provider node: gunicorn with config/gunicorn.py (docs/deploy.md).
#   docker build -t idp .
#   docker run --env-file /etc/idp/env -v /srv/idp/keys:/var/lib/idp/keys -p 8000:8000 idp
# One-off and cron commands run in the same image: `docker run ... idp idp db upgrade`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # lxml and xmlsec must link the same libxml2: wheels only, never a local build.
    PIP_ONLY_BINARY=lxml,xmlsec

WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY idp ./idp
# Installed in place: the settings file config/default.toml is read next to the package.
RUN pip install -e . && python -c 'import lxml.etree, xmlsec'
COPY config ./config
COPY wsgi.py ./

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/idp --shell /usr/sbin/nologin idp \
    && install -d -o idp -g idp -m 0700 /var/lib/idp /var/lib/idp/keys /var/lib/idp/var
USER idp

# keys/ is shared by every node (a volume); var/ holds only this node's outbox
# when no SMTP or SMS gateway is set. IDP_SECRET_KEY, IDP_DATABASE_URL and
# IDP_ISSUER come from the environment, the same on every node.
ENV IDP_KEYS_DIR=/var/lib/idp/keys \
    IDP_VAR_DIR=/var/lib/idp/var \
    HOST=0.0.0.0 \
    PORT=8000 \
    ACCESS_LOG=1
EXPOSE 8000
# gunicorn stops gracefully on SIGTERM (graceful_timeout in config/gunicorn.py);
# give the container more than that before it is killed (docker stop -t 40).
STOPSIGNAL SIGTERM
CMD ["gunicorn", "-c", "config/gunicorn.py", "wsgi:app"]
