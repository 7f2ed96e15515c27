# Production image: the web app under gunicorn; static files served by WhiteNoise.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DEBUG=0
WORKDIR /app

COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir . \
    && SECRET_KEY=build-only python manage.py collectstatic --noinput

RUN useradd --system --home /app chainmap && mkdir -p /app/media && chown -R chainmap /app
USER chainmap
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
