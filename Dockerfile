# doorstep: one image for the API (`doorstep serve`) and the workers (`doorstep worker`).
# Built from the locked environment (uv.lock); see docs/deploy.md and compose.yaml.
FROM python:3.11-slim-bookworm

# uv from PyPI, as the Makefile installs it; no compilers: every locked package has a wheel.
RUN pip install --no-cache-dir uv \
    && useradd --system --create-home --home-dir /srv/doorstep doorstep
WORKDIR /srv/doorstep/app
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev --no-cache && chown -R doorstep /srv/doorstep
ENV PATH=/srv/doorstep/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DOORSTEP_ENV=production \
    DOORSTEP_HOST=0.0.0.0 \
    DOORSTEP_PORT=8000
USER doorstep
EXPOSE 8000
# A container holds no state: data in PostgreSQL, attempt limits in Redis, photos in the DB.
CMD ["doorstep", "serve", "--workers", "2"]
