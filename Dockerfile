# syntax=docker/dockerfile:1
# The availability API image: gunicorn + the `api` package, nothing else.
#
#   docker build -t availability-api .
#   docker run --read-only --tmpfs /tmp -p 127.0.0.1:8000:8000 \
#     -e API_STORE_URL=sqlite:////tmp/availability.sqlite3 -e API_STAFF_TOKEN=... \
#     -e API_SERVICE_NAME=availability-api -e API_TRUSTED_PROXY_HOPS=0 availability-api
#
# Where no registry is reachable, build on a local Debian base instead:
#   podman build --build-arg PYTHON_IMAGE=<local base> --secret id=pipca,src=<CA bundle> .
# (see mk/api.mk; the CA secret is only needed behind a TLS-intercepting proxy).

# Pinned by digest: a tag can be moved to other bytes, a digest cannot. To update,
# `docker buildx imagetools inspect python:3.11-slim-bookworm` and paste the
# index digest here (a test checks the pin is a full sha256).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

# --------------------------------------------------------------------------- build
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
RUN python3 -m venv /opt/venv

# Dependencies first, so this layer is rebuilt only when they change: exactly
# the [project] dependencies of pyproject.toml (flask, gunicorn, boto3), pinned
# by constraints.txt. Site-only and dev extras never enter the image.
COPY pyproject.toml constraints.txt ./
RUN --mount=type=secret,id=pipca \
    if [ -f /run/secrets/pipca ]; then export PIP_CERT=/run/secrets/pipca; fi \
    && python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > requirements.txt \
    && /opt/venv/bin/pip install --no-cache-dir --constraint constraints.txt --requirement requirements.txt \
    && /opt/venv/bin/python -m pip uninstall --yes --quiet pip setuptools

# Then the source. Byte-compiled here because the root filesystem is read-only at run time.
COPY api /app/api
RUN /opt/venv/bin/python -m compileall -q /app/api

# --------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

# A fixed, unprivileged UID (matched by the ECS task definition); no login, no home to
# write. Nothing at run time installs packages: the base's own pip, setuptools and
# wheel go (the official image installs them; Debian keeps them as wheels for venv).
RUN useradd --uid 10001 --user-group --no-log-init --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin app \
    && if python3 -m pip --version >/dev/null 2>&1; then \
        python3 -m pip uninstall --yes --quiet pip setuptools wheel; fi \
    && rm -rf /usr/share/python-wheels

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

# API_ENV=production: the app refuses to start unless the environment names its
# store, staff token, metrics service name and proxy hops (api/config.py,
# PRODUCTION_REQUIRED); there is deliberately no default store in the image.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    API_ENV=production

WORKDIR /app
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
    CMD ["python3", "-m", "api.healthcheck"]
# Run with an init as PID 1 (ECS: initProcessEnabled; docker/podman: --init).
# As PID 1, gunicorn would lose a SIGTERM sent before its handler is installed
# and ignore the stop until it is killed.
CMD ["gunicorn", "--config", "/app/api/gunicorn.conf.py", "api.wsgi:app"]
