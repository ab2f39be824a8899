# Production image: gunicorn serving Linkwork; the same image runs the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LINKWORK_ENVIRONMENT=production \
    STATIC_ROOT=/app/staticfiles LINKWORK_DATA_DIR=/app/data

WORKDIR /app
# Pango, HarfBuzz and fonts for WeasyPrint (the printable plan as PDF).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv && useradd --create-home --uid 1000 linkwork
COPY requirements.txt .
RUN uv pip sync --system --require-hashes requirements.txt
COPY . .
# Settings need these to import; none of them is used at run time.
RUN SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    ALLOWED_HOSTS=build DATABASE_URL=postgres://build@build/build \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/data && chown -R linkwork /app/data

USER linkwork
EXPOSE 8000
# Workers, worker class, bind address and timeout: gunicorn.conf.py (WEB_CONCURRENCY sets the number of workers).
CMD ["gunicorn", "linkwork.wsgi", "--access-logfile", "-"]
