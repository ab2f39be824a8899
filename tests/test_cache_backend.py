"""The Redis cache backend (linkwork.cache) keeps one client per connection pool: against the real Redis, it
must still store, read, count and delete as Django's own backend does."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from linkwork.cache import RedisCache

# Redis runs on every developer and CI machine; CI names it in REDIS_URL.
REDIS = settings.REDIS_URL or "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_cache():
    cache = RedisCache(REDIS, {"KEY_PREFIX": f"test-cache-{uuid.uuid4()}"})
    yield cache
    cache.clear()
    cache.close()


def test_one_client_serves_every_operation(redis_cache) -> None:
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client(write=True) is client
    redis_cache.set("a", {"n": 1})
    assert redis_cache._cache.get_client("a") is client


def test_it_stores_reads_counts_and_deletes_as_djangos_backend_does(redis_cache) -> None:
    assert redis_cache.get("missing", "default") == "default"
    redis_cache.set("person", {"name": "Siobhán O'Brien", "visits": [1, 2]}, 60)
    assert redis_cache.get("person") == {"name": "Siobhán O'Brien", "visits": [1, 2]}
    assert redis_cache.add("person", "other") is False
    redis_cache.set("count", 1)
    assert redis_cache.incr("count", 2) == 3
    redis_cache.set_many({"x": 1, "y": 2})
    assert redis_cache.get_many(["x", "y", "z"]) == {"x": 1, "y": 2}
    assert redis_cache.delete("person") is True
    assert redis_cache.get("person") is None
    redis_cache.set("gone", 1, 0)  # a non-positive timeout deletes, as in Django
    assert redis_cache.get("gone") is None


def test_clearing_deletes_the_caches_keys_and_leaves_the_brokers_queues(redis_cache) -> None:
    """Celery's broker shares the cache's Redis database (REDIS_URL): clearing the cache must not delete the
    queued tasks, as Django's FLUSHDB did."""
    client = redis_cache._cache.get_client()
    queue = f"test-queue-{uuid.uuid4()}"
    client.lpush(queue, "a queued task")
    redis_cache.set_many({f"k{i}": i for i in range(2500)})  # more than one batch of deletes
    try:
        assert redis_cache.clear() is True
        assert redis_cache.get_many([f"k{i}" for i in range(2500)]) == {}
        assert client.lrange(queue, 0, -1) == [b"a queued task"]
        assert redis_cache.clear() is False  # nothing left of ours
    finally:
        client.delete(queue)
