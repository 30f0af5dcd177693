"""Ops console: review queue, the audit policy and its history, service areas, templates and
courier companies with their capacity edits, windows over capacity and moving their extra
visits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from doorstep.domain import bounds
from doorstep.domain.errors import DomainError, InvalidInput
from doorstep.domain.identity import Role
from doorstep.domain.policy import RULE_DEFAULTS, Policy, RuleConfig
from doorstep.entrypoints.api.errors import STATUS
from doorstep.entrypoints.web import labels, queries
from doorstep.entrypoints.web.forms import CalendarDay, PathId, optional_int, to_int
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import catalog, over_capacity, policies, rebalance, returns
from doorstep.services.catalog import CapacitySaved

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OpsPage = Annotated[Web, Depends(page(Role.OPS))]
OpsPost = Annotated[Web, Depends(action(Role.OPS))]


def queue_page(web: Web, *, error: str | None = None, status: int = 200) -> Response:
    svc = web.app.services
    # The oldest first, a screenful at a time: the next ones appear as these are decided.
    waiting = returns.review_queue(svc)
    held = waiting[:_QUEUE_SHOWN]
    names = queries.product_names(svc, {ln.sku for r in held for ln in r.lines})
    history = queries.buyer_histories(svc, {r.buyer_id for r in held})
    return render(
        web,
        "console_queue.html",
        status=status,
        here="/console",
        held=held,
        waiting=len(waiting),
        names=names,
        history=history,
        TELLING=_TELLING,
        error=error,
    )


# How a buyer's returns ended, and the ones a person holds: the queue names these one by one
# and counts the rest (in flight) as one number; the buyer's page has every status.
_TELLING = ("cancelled", "closed", "disputed", "exchanged", "in_review", "refunded", "rejected")


@router.get("/console")
def queue(web: OpsPage) -> Response:
    """Returns the audit held for a person, oldest first, with the reasons they were held."""
    return queue_page(web)


@router.post("/console/reviews/{return_id}")
def review(
    web: OpsPost,
    return_id: PathId,
    decision: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        if decision not in ("approve", "reject"):
            raise InvalidInput("choose_decision", "Approve or reject.", "请选择通过或拒绝。")
        returns.review_return(
            web.app.services,
            return_id,
            approve=decision == "approve",
            reviewer=web.actor_id,
            note=note.strip(),
        )
    except DomainError as exc:
        return queue_page(web, error=web.error_text(exc), status=409)
    return see_other(web, "/console")


def _changes(newer: Policy, older: Policy | None) -> list[str]:
    """What a version changed against the one before: ``rule.param: old → new``."""
    if older is None:
        return []
    before = {r.code: r for r in older.rules}
    out = []
    for rule in newer.rules:
        old = before.get(rule.code)
        if old is None or old.enabled != rule.enabled:
            out.append(f"{rule.code}: {'on' if rule.enabled else 'off'}")
        for name in RULE_DEFAULTS.get(rule.code, {}):
            was = old.param(name) if old else None
            now = rule.param(name)
            if was != now:
                out.append(f"{rule.code}.{name}: {was} → {now}")
    return out


_HISTORY_SHOWN = 10
_QUEUE_SHOWN = 8


def policy_page(
    web: Web,
    *,
    error: str | None = None,
    status: int = 200,
    notice: str | None = None,
    typed: dict[str, str] | None = None,
    bad: str = "",
) -> Response:
    """The policy form; after a refused save it shows what was typed, not the stored values,
    with the error next to the field it is about (``bad`` is that field's name)."""
    svc = web.app.services
    current = policies.current_policy(svc)
    history = queries.policy_history(svc)
    # The latest versions only: the page stays small however long the history grows (every
    # version stays in the database and behind the API).
    diffs = [
        (p, _changes(p, history[i + 1] if i + 1 < len(history) else None))
        for i, p in enumerate(history[:_HISTORY_SHOWN])
    ]
    rules = [(r, [(name, r.param(name)) for name in RULE_DEFAULTS[r.code]]) for r in current.rules]
    return render(
        web,
        "console_policy.html",
        status=status,
        here="/console/policy",
        policy=current,
        rules=rules,
        history=diffs,
        error=error,
        notice=notice,
        typed=typed,
        bad=bad,
        param_label=lambda name: web._(labels.PARAM.get(str(name), str(name))),
    )


@router.get("/console/policy")
def show_policy(
    web: OpsPage, saved: Annotated[int | None, Query(ge=1, le=1_000_000)] = None
) -> Response:
    notice = web._("Saved as version %(v)s.") % {"v": saved} if saved else None
    return policy_page(web, notice=notice)


def _param(rule: str, name: str, raw: str) -> Any:
    default = RULE_DEFAULTS[rule][name]
    if isinstance(default, list):
        return [part.strip() for part in raw.replace("，", ",").split(",") if part.strip()]
    if not bounds.is_whole_number(raw.strip()):
        raise InvalidInput(
            "policy_param_type",
            f"{rule}.{name} must be a whole number (digits 0-9).",
            f"{rule}.{name} 必须是整数（数字 0-9）。",
            rule=rule,
            param=name,
        )
    return int(raw.strip())


def _rules_from(form: dict[str, Any]) -> tuple[RuleConfig, ...]:
    out = []
    for code, params in RULE_DEFAULTS.items():
        values = {
            name: _param(code, name, str(form[f"p:{code}:{name}"]))
            for name in params
            if f"p:{code}:{name}" in form
        }
        out.append(RuleConfig(code, f"on:{code}" in form, values))
    return tuple(out)


def _revise(web: Web, form: dict[str, Any]) -> Response:
    try:
        rules = _rules_from(form)
        policy = policies.revise_policy(
            web.app.services, rules, web.actor_id, str(form.get("note", ""))[:500]
        )
    except DomainError as exc:
        rule, param = str(exc.details.get("rule", "")), str(exc.details.get("param", ""))
        message = web.error_text(exc)
        if rule and param:
            # "return_window.no_reason_days must be…" reads as "退货期限 · 无理由退货天数 …".
            human = (
                f"{web._(labels.RULE.get(rule, rule))} · {web._(labels.PARAM.get(param, param))}"
            )
            message = message.replace(f"{rule}.{param}", human)
        typed = {k: str(v)[:200] for k, v in form.items() if k != "csrf_token"}
        field = f"p:{rule}:{param}" if rule and param else ""
        return policy_page(web, error=message, status=422, typed=typed, bad=field)
    return see_other(web, f"/console/policy?saved={policy.version}")


@router.post("/console/policy")
async def revise(request: Request, web: OpsPost) -> Response:
    """Store the edited parameters as the next policy version (validated by the domain)."""
    form = await request.form()  # already read (and cached) by the CSRF check
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_revise, web, fields)


@router.get("/console/areas")
def areas(
    web: OpsPage,
    moved: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
    over: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
) -> Response:
    """Where pickup is served, by whom and with which windows; capacity and templates are
    edited here."""
    notice = None
    if moved is not None:
        notice = web._(
            "Saved. Windows whose capacity moved: %(moved)s; over capacity: %(over)s."
        ) % {
            "moved": moved,
            "over": over or 0,
        }
    return _areas_page(web, notice=notice)


def _areas_page(
    web: Web, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> Response:
    svc = web.app.services
    carriers = catalog.list_carriers(svc)
    return render(
        web,
        "console_areas.html",
        status=status,
        areas=catalog.list_areas(svc),
        templates=catalog.list_templates(svc),
        carriers=carriers,
        # Companies by name, not by code: "顺丰速运", not "sf".
        carrier_names={c.carrier_id: (c.name_zh, c.name_en) for c in carriers},
        notice=notice,
        error=error,
    )


def _capacity_saved(web: Web, edit: Callable[[], CapacitySaved[Any]]) -> Response:
    """Run a capacity edit; back to the areas page saying how many windows it moved and how
    many it left over capacity, or with the edit's error."""
    try:
        saved = edit()
    except DomainError as exc:
        return _areas_page(web, error=web.error_text(exc), status=STATUS[exc.kind])
    return see_other(web, f"/console/areas?moved={len(saved.moved)}&over={len(saved.over)}")


@router.post("/console/templates/{template_id}")
def change_template(
    web: OpsPost,
    template_id: PathId,
    capacity: Annotated[str, Form(max_length=12)],
    holiday_capacity_pct: Annotated[str, Form(max_length=12)],
) -> Response:
    """A template's capacity per window and holiday share; its windows are kept."""

    def edit() -> CapacitySaved[Any]:
        return catalog.change_template_capacity(
            web.app.services,
            template_id,
            to_int(capacity, web._("Capacity per window"), low=0, high=10_000),
            to_int(holiday_capacity_pct, web._("Holiday capacity"), low=0, high=100),
        )

    return _capacity_saved(web, edit)


@router.post("/console/areas/{adcode}/capacity")
def change_area_capacity(
    web: OpsPost,
    adcode: Annotated[str, FastPath(pattern=bounds.ADCODE_PATTERN)],
    capacity_override: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """An area's capacity per window, overriding its templates' (blank: the templates')."""

    def edit() -> CapacitySaved[Any]:
        override = optional_int(capacity_override, web._("Capacity override"), low=0, high=10_000)
        return catalog.change_area_capacity(web.app.services, adcode, override)

    return _capacity_saved(web, edit)


@router.post("/console/carriers/{carrier_id}")
def change_carrier(
    web: OpsPost,
    carrier_id: PathId,
    template_id: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    """The slot template a courier company's windows follow."""
    return _capacity_saved(
        web, lambda: catalog.change_carrier_template(web.app.services, carrier_id, template_id)
    )


# A screenful: ops act on the soonest windows first; the page says how many there are.
_OVER_SHOWN = 100


@router.get("/console/areas/over-capacity")
def windows_over_capacity(
    web: OpsPage,
    moved: Annotated[int | None, Query(ge=0, le=10_000)] = None,
    left: Annotated[int | None, Query(ge=0, le=10_000)] = None,
) -> Response:
    """Windows not started holding more visits than their capacity (an area or template
    edit lowered it; no visit was cancelled), soonest first, by how many."""
    notice = None
    if moved is not None:
        notice = web._("Visits moved: %(moved)s; still over: %(left)s.") % {
            "moved": moved,
            "left": left or 0,
        }
    return _over_page(web, notice=notice)


def _over_page(
    web: Web, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> Response:
    svc = web.app.services
    found = over_capacity.over_capacity(svc, _OVER_SHOWN)
    return render(
        web,
        "console_over_capacity.html",
        status=status,
        found=found,
        area_names={a.adcode: (a.name_zh, a.name_en) for a in catalog.list_areas(svc)},
        carrier_names={c.carrier_id: (c.name_zh, c.name_en) for c in queries.carriers(svc)},
        notice=notice,
        error=error,
    )


@router.post("/console/areas/over-capacity/rebalance")
def rebalance_window(
    web: OpsPost,
    adcode: Annotated[str, Form(pattern=bounds.ADCODE_PATTERN)],
    carrier_id: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")],
    day: Annotated[CalendarDay, Form()],
    start: Annotated[str, Form(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")],
) -> Response:
    """Move the window's visits beyond capacity to the nearest later windows with room."""
    try:
        done = rebalance.rebalance_window(
            web.app.services, adcode, carrier_id, day, time.fromisoformat(start)
        )
    except DomainError as exc:
        return _over_page(web, error=web.error_text(exc), status=409)
    url = f"/console/areas/over-capacity?moved={len(done.moved)}&left={done.left_over}"
    return see_other(web, url)
