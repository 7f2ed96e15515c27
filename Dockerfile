# Production image: the web app under gunicorn (config/gunicorn.conf.py), static files
# served by WhiteNoise; the same image runs the background worker (docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DEBUG=0 PORT=8000 \
    MPLCONFIGDIR=/app/.cache/matplotlib

# Pango (PDF reports, WeasyPrint), Cairo (diagram PNG, CairoSVG) and a font for both.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libcairo2 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The dependencies first (pyproject.toml lists no packages: the app runs from /app), so
# a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
# Static files with hashed names, and matplotlib's font cache, built once into the image.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && python -c "import matplotlib.font_manager"

RUN useradd --system --home /app chainmap && mkdir -p /app/media && chown -R chainmap /app
USER chainmap
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=6s --start-period=30s --retries=3 \
    CMD ["python", "-m", "config.healthcheck"]
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
