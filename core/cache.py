"""A cache for counters that may be lost: rate limits.

When Redis cannot be reached, these counters are simply not counted (a warning is logged), so a
limit fails open instead of failing the request it guards: a customer's report must never be
lost because the counter of how many they sent is down.
"""

import logging

import redis
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)
_DOWN = (redis.RedisError, OSError)


class FailSoftRedisCache(RedisCache):
    def add(self, key, value, timeout=None, version=None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except _DOWN:
            log.warning("rate-limit counters unreachable: not counting (failing open)")
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except _DOWN:
            return None

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except _DOWN:
            return default
