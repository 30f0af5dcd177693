"""Ops edit the audit policy; every edit is a new version, old decisions keep theirs."""

from __future__ import annotations

from doorstep.domain.errors import NotFound
from doorstep.domain.policy import Policy, RuleConfig, default_policy
from doorstep.services.context import Services


def current_policy(svc: Services) -> Policy:
    with svc.uow() as uow:
        return uow.policies.current() or default_policy(svc.clock.now())


def policy_version(svc: Services, version: int) -> Policy:
    with svc.uow() as uow:
        policy = uow.policies.get(version)
        if policy is None:
            raise NotFound("policy", version)
        return policy


def revise_policy(svc: Services, rules: tuple[RuleConfig, ...], by: str, note: str) -> Policy:
    """Store the next version; rules not mentioned keep their current configuration."""
    with svc.uow() as uow:
        current = uow.policies.current()
        if current is None:
            current = default_policy(svc.clock.now())
            uow.policies.add(current)
        merged = {r.code: r for r in current.rules} | {r.code: r for r in rules}
        policy = current.revise(tuple(merged.values()), svc.clock.now(), by, note)
        uow.policies.add(policy)
        uow.commit()
        return policy


def ensure_policy(svc: Services) -> Policy:
    with svc.uow() as uow:
        policy = uow.policies.current()
        if policy is None:
            policy = default_policy(svc.clock.now())
            uow.policies.add(policy)
            uow.commit()
        return policy
