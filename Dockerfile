# One image for every Jembatan service. Each container picks its service by its command:
#   docker run jembatan jembatan run villages     (villages, requests, routing, notifications, gateway)
# Settings come from the environment only (docs/api.md): AMQP_URI, JEMBATAN_DATABASE_URL_<SERVICE>,
# JEMBATAN_HTTP_PORT, JEMBATAN_DATA_DIR, ... See docker-compose.yml and README.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    JEMBATAN_DATA_DIR=/data

# Only what the package needs (not .venv/, var/ or tests/). README.md is the package's readme
# in pyproject.toml, so the build needs it. The wilayah data and its ODbL notice
# (services/villages/data/wilayah/LICENSE.md) are package data and are installed with it.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY jembatan ./jembatan
COPY shared ./shared
COPY services ./services

# The dependencies are pinned exactly in pyproject.toml; pip is pinned as in scripts/setup.
# Services run through Jembatan's own runner (nameko.runners.ServiceRunner), so the nameko CLI
# (which imports pkg_resources) is never needed.
RUN python -m pip install "pip==24.3.1" \
 && python -m pip install . \
 && rm -rf /src

WORKDIR /
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin jembatan \
 && mkdir -p /data \
 && chown jembatan:jembatan /data

USER jembatan
WORKDIR /data
EXPOSE 8000

# jembatan handles SIGTERM itself (docker stop): it finishes in-flight work within 20 s.
CMD ["jembatan", "run", "gateway"]
