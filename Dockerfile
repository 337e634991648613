# The toolkit's Python processes in one image: the router (`python -m router`), the extracted services
# (`python -m extracted.inventory`) and the `strangler` CLI (sync backfill, relays). docker-compose.yml
# picks the process with `command:`. The monolith has its own image (legacy_monolith/Dockerfile).
# Build from the repository root:
#   docker build -t strangler-toolkit .
FROM python:3.11-slim

# PYTHONPATH: every process, the `strangler` console script included, imports the code under /app, the
# one copy that also holds the data files beside it (extracted/inventory/alembic.ini, its migrations).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# The pinned dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
print('\n'.join(deps))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Only what the toolkit's processes run: no monolith, no tests (migration_plan: the CLI imports it;
# `strangler discover` itself needs the monolith and runs beside it, not here). Installing the project
# (without its dependencies, already there) gives the `strangler` console script.
COPY router ./router
COPY extracted ./extracted
COPY strangler ./strangler
COPY migration_plan ./migration_plan
COPY strangler.yaml ./
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build ./*.egg-info

# var/ is where the processes put SQLite files when no database URL is given; compose gives URLs.
RUN groupadd --system --gid 10001 strangler \
    && useradd --system --uid 10001 --gid strangler --no-create-home --shell /usr/sbin/nologin strangler \
    && mkdir -p /app/var && chown strangler:strangler /app/var
USER strangler

# 8000: the router; 8101: the inventory service; 9101: the relay's Prometheus metrics (--metrics-port).
EXPOSE 8000 8101 9101
CMD ["python", "-m", "router", "--host", "0.0.0.0", "--port", "8000"]
