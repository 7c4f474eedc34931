"""Allowlists, admins and the per-user token bucket."""

from __future__ import annotations

from bot.access import AccessPolicy, RateLimiter


def test_nothing_listed_is_closed_not_open() -> None:
    policy = AccessPolicy()
    assert not policy.open and policy.closed
    assert not policy.allows(1, 1) and not policy.allows(1, -100)


def test_public_lets_anyone_in_anywhere() -> None:
    policy = AccessPolicy(public=True)
    assert policy.open and policy.allows(1, 1) and policy.allows(2, -100)
    assert not policy.is_admin(1)


def test_only_admins_set_does_not_open_the_bot() -> None:
    policy = AccessPolicy(admins=[7])
    assert not policy.open and not policy.closed
    assert policy.allows(7, 7) and policy.is_admin(7)
    assert not policy.allows(8, 8)


def test_allowlists_let_in_listed_users_chats_and_admins() -> None:
    policy = AccessPolicy(allowed_users=[1], allowed_chats=[-100], admins=[7])
    assert not policy.open
    assert policy.allows(1, 1)
    assert policy.allows(2, -100)
    assert policy.allows(7, 7) and policy.is_admin(7)
    assert not policy.allows(2, 2)
    assert not policy.allows(None, None)


def test_a_group_must_be_listed_itself() -> None:
    policy = AccessPolicy(allowed_users=[1], allowed_chats=[-100], admins=[7])
    assert not policy.allows(1, -200)  # an allowed user in an unlisted group
    assert not policy.allows(7, -200)  # an admin too: every member would see the quotes
    assert not policy.allows(1, 55, private=False)
    assert policy.allows(3, -100)  # any member of a listed group


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
