# One image for every role (web, ws, worker, beat); docker-compose.yml picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_DEBUG=false
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir . && useradd --create-home app \
    && install -d -o app /var/lib/dispatch/metrics  # the metrics volume, writable by app
COPY . .
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput
USER app
EXPOSE 8000 8001
CMD ["gunicorn", "config.wsgi:application", "-b", "0.0.0.0:8000", "-w", "2", "-c", "python:config.gunicorn"]
