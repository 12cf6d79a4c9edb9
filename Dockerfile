# The app image: runtime dependencies only (requirements-runtime.lock, the same pins as the
# venv's requirements.lock), then the package; the same start commands as the Makefile.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements-runtime.lock pyproject.toml README.md ./
RUN python -m pip install -r requirements-runtime.lock
COPY src ./src
RUN python -m pip install --no-deps . && useradd --create-home --uid 10001 hotdeals

USER hotdeals
EXPOSE 8000
# Migrations first (idempotent), then the server.
CMD ["sh", "-c", "hotdeals init-db && exec hotdeals serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
