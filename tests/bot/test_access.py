"""Allowlists, admins and the per-user token bucket."""

from __future__ import annotations

from bot.access import AccessPolicy, RateLimiter


def test_no_allowlist_is_open() -> None:
    policy = AccessPolicy()
    assert policy.open and policy.allows(1, 2) and not policy.is_admin(1)


def test_allowlists_let_in_listed_users_chats_and_admins() -> None:
    policy = AccessPolicy(allowed_users=[1], allowed_chats=[-100], admins=[7])
    assert not policy.open
    assert policy.allows(1, 55)
    assert policy.allows(2, -100)
    assert policy.allows(7, 7) and policy.is_admin(7)
    assert not policy.allows(2, 2)
    assert not policy.allows(None, None)


def test_refusal_given_once() -> None:
    policy = AccessPolicy(allowed_users=[1])
    assert policy.first_refusal(2, 2)
    assert not policy.first_refusal(2, 2)
    assert policy.first_refusal(3, 3)


def test_token_bucket_allows_burst_then_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=6, burst=2, clock=lambda: now[0])
    assert limiter.acquire(1) == 0 and limiter.acquire(1) == 0
    wait = limiter.acquire(1)
    assert 9.9 < wait <= 10.0
    assert limiter.should_warn(1) and not limiter.should_warn(1)
    assert limiter.acquire(2) == 0  # another user has their own bucket
    now[0] = 10.0
    assert limiter.acquire(1) == 0
    assert limiter.acquire(1) > 0


def test_rate_zero_disables_limit() -> None:
    limiter = RateLimiter(per_minute=0, burst=1)
    assert all(limiter.acquire(1) == 0 for _ in range(100))


def test_idle_buckets_forgotten() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, max_keys=3)
    for key in range(10):
        limiter.acquire(key)
    assert len(limiter._buckets) == 3
