"""How many messages one conversation and one client address may send a minute.

Embedded profile: a token bucket per key in this process (one Rasa server). Scale profile: the
replicas share a counter per key and minute in Redis (INCR and EXPIRE in one transaction), so
a sender spread over replicas by the balancer meets one limit. When Redis does not answer the
message is let through: a limit must not take the chat down with it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from madoguchi.infra.settings import settings

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0
_MAX_KEYS = 50_000


class Limiter(Protocol):
    async def allow(self, key: str, per_minute: int) -> bool: ...


@dataclass
class LocalBuckets:
    """Token buckets in memory: `per_minute` at once, refilled evenly over the minute."""

    clock: object = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    async def allow(self, key: str, per_minute: int) -> bool:
        now = self.clock()  # type: ignore[operator]
        tokens, since = self._buckets.get(key, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - since) * per_minute / WINDOW_SECONDS)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > _MAX_KEYS:
            self._forget_full(now, per_minute)
        return allowed

    def _forget_full(self, now: float, per_minute: int) -> None:
        # A bucket that has refilled says nothing a fresh one would not.
        for key, (_tokens, since) in list(self._buckets.items()):
            if now - since >= WINDOW_SECONDS:
                del self._buckets[key]


@dataclass
class RedisWindows:
    """A counter per key and minute in Redis, shared by every replica."""

    url: str
    prefix: str = "madoguchi"
    _client: Redis | None = None

    async def allow(self, key: str, per_minute: int) -> bool:
        if self._client is None:
            self._client = Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        window = int(time.time() // WINDOW_SECONDS)
        name = f"{self.prefix}:rate:{key}:{window}"
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(name).expire(name, int(WINDOW_SECONDS) + 1).execute()
        except (RedisError, OSError) as exc:
            logger.warning("rate limit not checked, Redis does not answer: %s", exc)
            return True
        return int(count) <= per_minute


def limiter() -> Limiter:
    """The limiter this process's profile calls for."""
    current = settings()
    if current.profile == "scale":
        return RedisWindows(current.redis_url, current.lock_prefix)
    return LocalBuckets()
