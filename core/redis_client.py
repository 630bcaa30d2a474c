"""The one Redis client the platform's own code uses (follow-ups, health, metrics): short
timeouts, so a Redis that is down is an answer within a second, never a hang. redis-py's pool
re-creates its connections in a forked process (Celery's prefork children)."""

from functools import cache

import redis
from django.conf import settings

UNREACHABLE = (redis.RedisError, OSError)


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
