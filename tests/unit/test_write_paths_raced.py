"""Every write path is raced or reviewed as moving nothing, found by walking the code rather
than by a list someone must remember to extend.

The project's rule: every write path that moves money, capacity (windows, courier days,
station space) or quantities (units claimed, stock, quotas) has a test that races it with at
least 20 units of work at once on SQLite and PostgreSQL and then checks the invariants in SQL.
This test walks every API and page router (every method but GET), every background job of
``entrypoints.jobs`` and every CLI command, and fails when one is in neither list below:

- ``RACED``: the race tests (``file::function`` under tests/integration) that cover it. Each
  must exist, run on both backends (take ``wired`` or ``database_url``, directly or through a
  fixture of its module), start its racers together (``race(...)`` of tests/integration/races.py
  or a ``threading.Barrier``), and its module must call a service function the route calls.
- ``NOT_MOVING``: reviewed as moving no money, capacity or quantity, with the reason.

A route, job or command added tomorrow fails here until someone races it or says why it
needs no race.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import typer.main
from fastapi.routing import APIRoute, APIRouter
from tests.integration.races import RACERS  # type: ignore[import-not-found]

import doorstep.entrypoints.api as api_pkg
import doorstep.entrypoints.web as web_pkg
import doorstep.services as services_pkg
from doorstep.entrypoints import jobs
from doorstep.entrypoints.cli import app as cli_app

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
BOTH_BACKENDS = {"wired", "database_url"}

_CLAIMS = ("test_races.py::test_claims_on_one_unit_let_exactly_one_through",)
_CANCEL = (
    "test_races.py::test_withdrawing_while_a_reviewer_approves_never_pays_a_withdrawn_return",
    "test_races_withdrawals.py::test_withdrawals_raced_with_bookings_and_plans_free_each_visit_once",
)
_BOOK = (
    "test_booking_race.py::test_exactly_capacity_bookings_succeed",
    "test_races.py::test_booking_one_window_never_overbooks",
    "test_booking_routes_race.py::test_parallel_bookings_into_one_courier_day_keep_every_promise",
)
_SETTLE_OVERTAKEN = ("test_overtaken_ops.py::test_many_consoles_settling_at_once_settle_once",)
_RESCHEDULE = ("test_races.py::test_rescheduling_in_crossfire_keeps_counts",)
_CANCEL_PICKUP = ("test_races.py::test_cancelling_while_others_book_the_freed_places",)
_JOIN = ("test_races.py::test_joining_a_visit_while_it_is_cancelled",)
_INSPECT = (
    "test_races_gaps.py::test_inspections_raced_with_the_pickup_take_the_units_once",
    # The same inspection sent again at once (the phone lost the answer): recorded once.
    "test_courier_repeat_races.py::test_the_same_inspection_sent_at_once_is_recorded_once",
)
_PICK_UP = (
    "test_races.py::test_express_refund_at_pickup_pays_once",
    "test_partial_pickup_race.py::test_partial_pickups_raced_with_new_claims_and_refunds",
    "test_races_audit.py::test_coupons_are_issued_once_at_pickup_and_never_beside_a_drop",
    # The express refund advances the import tax; customs' rejection takes it back.
    "test_customs_tax_races.py::test_express_refunds_raced_with_customs_rejection_keep_no_tax",
    # The pickup raced with the worker's express sweeps, which start its refund too.
    "test_express_sweep_races.py::test_pickups_raced_with_express_sweeps_pay_once",
    # A pickup that died after its commit, its repeats (answered as the first) raced with
    # the sweeps and with a different pickup of the visit done.
    "test_courier_repeat_races.py::"
    "test_repeats_after_a_pickup_that_died_race_the_sweeps_and_are_answered_as_the_first",
)
_EXPRESS_SWEEP = (
    "test_express_sweep_races.py::"
    "test_a_pickup_that_died_before_its_express_refund_is_paid_once_by_sweeps_and_repeats",
    "test_express_sweep_races.py::test_pickups_raced_with_express_sweeps_pay_once",
)
_FAIL = ("test_races_gaps.py::test_failed_attempts_raced_with_cancels_and_moves_keep_counters",)
_GRADE = (
    "test_races.py::test_grading_and_retrying_together_pay_once",
    "test_after_sales_races.py::test_settlements_raced_with_grading_pay_the_tax_once",
    "test_money_races.py::test_grading_transit_damage_at_once_charges_the_carrier_once",
    "test_insured_charge_race.py::"
    "test_grading_damaged_company_parcels_at_once_charges_at_most_the_declared_value",
)
_REVIEW = (
    "test_races.py::test_reviewers_approving_together_pay_once",
    "test_refund_money.py::test_two_refunds_of_one_order_at_once_add_up_to_what_was_paid",
)
_DISRUPT = (
    "test_races_gaps.py::test_disruptions_declared_while_buyers_book_keep_counters_and_shares",
    "test_carrier_races.py::test_typhoons_raced_with_company_bookings_and_cancels_keep_orders_with_their_visits",
    "test_disruption_lock_order_races.py::test_a_disruption_raced_with_withdrawals_moves_and_bookings_never_deadlocks",
)
_FLEET = (
    "test_races_fleet.py::test_carrier_template_switches_raced_with_bookings_and_edits_move_live_counters",
)
_REBALANCE = (
    "test_races_rebalance.py::test_rebalances_of_one_window_raced_with_bookings_move_the_extra_visits_once",
)
_COVERAGE = (
    "test_races_gaps.py::test_area_and_template_capacity_edits_raced_with_bookings_move_live_counters",
    *_FLEET,
)
# A template edit also sets the holiday share the counters of a holiday take.
_TEMPLATE = (
    *_COVERAGE,
    "test_holiday_share_races.py::"
    "test_holiday_share_edits_raced_with_bookings_never_overbook_the_share",
)
_ARRIVE = (
    "test_courier_arrive_races.py::"
    "test_arrivals_raced_with_bookings_cancels_moves_and_plans_keep_the_routes",
)
_REDRIVE = (
    "test_races_audit.py::test_one_dead_letter_redriven_from_many_consoles_is_sent_again_once",
)
_OVERLAP = (
    "test_claim_overlap_race.py::"
    "test_claims_and_returns_on_the_same_lines_compensate_each_unit_once"
)
_CLAIM_FILE = ("test_money_races.py::test_filing_one_claim_many_times_at_once_files_one", _OVERLAP)
_CLAIM_ANSWER = ("test_money_races.py::test_merchant_answers_and_silence_sweeps_pay_a_claim_once",)
_CLAIM_DECIDE = (
    "test_money_races.py::test_counterfeit_decided_by_reviewers_at_once_pays_the_multiple_once",
)
_DISPUTE_DECIDE = (
    "test_money_races.py::test_reviewers_deciding_one_dispute_claw_back_once",
    "test_money_races.py::test_decision_and_retry_sweeps_together_claw_back_once",
)
_CONTACTLESS = (
    "test_races_audit.py::test_contactless_answers_and_silence_sweeps_decide_each_visit_once",
)
_REFUND_INSTEAD = (
    "test_after_sales_races.py::test_parallel_exchanges_for_the_last_units",
    "test_after_sales_races.py::test_paybacks_raced_with_the_sweep_wait_for_the_collection",
    # On its way, a trusted buyer's refund instead is an express refund at once.
    "test_express_sweep_races.py::"
    "test_refund_instead_on_the_way_raced_with_sweeps_is_an_express_refund_paid_once",
)
_CODE = ("test_races_audit.py::test_dropoff_codes_asked_for_at_once_keep_one_recorded_code",)
_REDEEM = ("test_races_dropoff.py::test_one_code_redeemed_at_once_hands_the_parcel_over_once",)
_DECLARE = (
    "test_races_audit.py::test_one_declaration_submitted_from_many_consoles_is_declared_once",
    # Declaring after day 30 lapses the declaration and takes advanced tax back.
    "test_customs_tax_races.py::test_lapsed_declarations_declared_from_many_consoles_take_the_tax_back_once",
)
_RECEIVE = ("test_after_sales_races.py::test_receipts_raced_ship_each_replacement_once",)
_SETTLE = (
    "test_after_sales_races.py::test_parallel_settlements_restore_the_quota_once_each",
    "test_after_sales_races.py::test_settlements_raced_with_grading_pay_the_tax_once",
)
_RETRY = (
    "test_transfer_retry_races.py::test_many_consoles_retrying_a_failed_clawback_move_it_once_under_its_key",
    "test_transfer_retry_races.py::test_a_retry_racing_the_sweep_and_itself_after_a_timeout_moves_once",
)

_SELF_SEND = (
    "test_races_gaps.py::test_choosing_dropoff_while_booking_never_leaves_a_visit_without_its_return",
)
_ACCOUNTS = ("test_races_accounts.py::test_disable_enable_delete_and_password_changes_at_once",)

RACED: dict[str, tuple[str, ...]] = {
    # buyer API
    "POST /returns": (*_CLAIMS, "test_races.py::test_refund_only_on_one_unit_pays_once", _OVERLAP),
    "POST /returns/{return_id}/cancel": _CANCEL,
    "POST /returns/{return_id}/self-send": _SELF_SEND,
    "POST /returns/{return_id}/pickup": _BOOK,
    "POST /returns/{return_id}/pickup/join": _JOIN,
    "POST /appointments/{appointment_id}/reschedule": _RESCHEDULE,
    "POST /appointments/{appointment_id}/cancel": _CANCEL_PICKUP,
    "POST /appointments/{appointment_id}/contactless/confirm": _CONTACTLESS,
    "POST /appointments/{appointment_id}/contactless/dispute": _CONTACTLESS,
    "POST /returns/{return_id}/exchange/refund-instead": _REFUND_INSTEAD,
    "POST /returns/{return_id}/dropoff-code": _CODE,
    "POST /claims": _CLAIM_FILE,
    # courier, station, warehouse
    # The arrival rewrites the courier's route (the door moves to the head of the day).
    "POST /courier/tasks/{appointment_id}/arrive": _ARRIVE,
    "POST /courier/tasks/{appointment_id}/inspect": _INSPECT,
    "POST /courier/tasks/{appointment_id}/pickup": _PICK_UP,
    "POST /courier/tasks/{appointment_id}/fail": _FAIL,
    "POST /stations/{station_id}/dropoffs": _REDEEM,
    "POST /warehouse/returns/{return_id}/grade": _GRADE,
    # Receipt ships an exchange's replacement (stock) and pays back a cheaper variant's
    # difference (money).
    "POST /warehouse/returns/{return_id}/receive": _RECEIVE,
    "POST /warehouse/waybills/{waybill_no}/receive": _RECEIVE,
    # ops
    "POST /ops/reviews/{return_id}": _REVIEW,
    "POST /ops/disruptions": _DISRUPT,
    "POST /ops/disruptions/{disruption_id}/lift": _DISRUPT,
    "PUT /ops/areas/{adcode}": _COVERAGE,
    "PUT /ops/templates/{template_id}": _TEMPLATE,
    "PUT /ops/carriers/{carrier_id}": _FLEET,
    "page POST /console/templates/{template_id}": _TEMPLATE,
    "page POST /console/areas/{adcode}/capacity": _COVERAGE,
    "page POST /console/carriers/{carrier_id}": _FLEET,
    "POST /ops/windows/{adcode}/{carrier_id}/{day}/{start}/rebalance": _REBALANCE,
    "POST /ops/deliveries/redrive": _REDRIVE,
    "POST /ops/claims/{claim_id}/decision": _CLAIM_DECIDE,
    "POST /ops/disputes/{return_id}/decision": _DISPUTE_DECIDE,
    "POST /ops/customs/{customs_return_id}/declare": _DECLARE,
    "POST /ops/customs/{customs_return_id}/settle": _SETTLE,
    "POST /ops/transfers/{transfer_id}/retry": _RETRY,
    # moves nothing, but many consoles at once must settle a case once
    "POST /ops/carrier-orders/{out_order_no}/settle": _SETTLE_OVERTAKEN,
    # accounts: no money, but a lost write brought deleted accounts back (see the test)
    "POST /auth/password": _ACCOUNTS,
    "POST /ops/users/{username}/{action}": _ACCOUNTS,
    "DELETE /ops/users/{username}": (
        *_ACCOUNTS,
        "test_account_deletion.py::"
        "test_deletions_raced_with_bookings_cancels_and_plans_leave_no_visit",
    ),
    # partners and courier companies
    "POST /partner/orders": (
        "test_races_gaps.py::test_reimports_raced_with_claims_never_take_back_held_units",
    ),
    "POST /partner/claims/{claim_id}/answer": _CLAIM_ANSWER,
    "POST /carriers/{carrier_id}/callbacks": (
        "test_carrier_races.py::test_parallel_duplicate_callbacks_apply_once",
        "test_carrier_races.py::test_duplicate_pickups_raced_with_a_withdrawal_take_and_refund_only_what_left",
        "test_carrier_poll_money_races.py::test_duplicate_pickups_refund_each_return_once",
    ),
    # pages: the same services as the API paths above
    "page POST /portal/returns": _CLAIMS,
    "page POST /portal/returns/{return_id}/cancel": _CANCEL,
    "page POST /portal/returns/{return_id}/self-send": _SELF_SEND,
    "page POST /portal/returns/{return_id}/book": _BOOK + _RESCHEDULE,
    "page POST /portal/returns/{return_id}/join": _JOIN,
    "page POST /portal/returns/{return_id}/cancel-pickup": _CANCEL_PICKUP,
    "page POST /portal/returns/{return_id}/dropoff-code": _CODE,
    "page POST /portal/returns/{return_id}/refund-instead": _REFUND_INSTEAD,
    "page POST /portal/claims": _CLAIM_FILE,
    "page POST /portal/appointments/{appointment_id}/contactless/confirm": _CONTACTLESS,
    "page POST /portal/appointments/{appointment_id}/contactless/dispute": _CONTACTLESS,
    "page POST /courier/visits/{appointment_id}/arrive": _ARRIVE,
    "page POST /courier/visits/{appointment_id}/inspect": _INSPECT,
    "page POST /courier/visits/{appointment_id}/pickup": _PICK_UP,
    "page POST /courier/visits/{appointment_id}/fail": _FAIL,
    "page POST /station/dropoffs": _REDEEM,
    "page POST /warehouse/parcels/{return_id}/grade": _GRADE,
    "page POST /warehouse/parcels/{return_id}/receive": _RECEIVE,
    "page POST /console/reviews/{return_id}": _REVIEW,
    "page POST /console/outbox/redrive": _REDRIVE,
    "page POST /console/areas/over-capacity/rebalance": _REBALANCE,
    "page POST /console/claims/{claim_id}": _CLAIM_DECIDE,
    "page POST /console/claims/{claim_id}/answer": _CLAIM_ANSWER,
    "page POST /console/disputes/{return_id}": _DISPUTE_DECIDE,
    "page POST /console/customs/{customs_return_id}/declare": _DECLARE,
    "page POST /console/customs/{customs_return_id}/settle": _SETTLE,
    "page POST /console/transfers/{transfer_id}/retry": _RETRY,
    "page POST /console/overtaken/{out_order_no}/settle": _SETTLE_OVERTAKEN,
    # background jobs (entrypoints/jobs.py)
    "job express_refunds": _EXPRESS_SWEEP,
    "job refund_retry": ("test_races.py::test_concurrent_retry_sweeps_settle_each_refund_once",),
    "job transfer_retry": (
        "test_after_sales_races.py::test_payment_faults_on_the_difference_and_the_tax_pay_once",
        "test_money_races.py::test_decision_and_retry_sweeps_together_claw_back_once",
    ),
    "job refund_overdue": (
        "test_refund_money.py::test_concurrent_pushes_escalate_once",
        "test_overdue_push_races.py::"
        "test_pushes_raced_with_retries_and_grading_pay_each_overdue_refund_once",
    ),
    "job claims": _CLAIM_ANSWER,
    "job outbox_dispatch": (
        "test_outbox.py::test_many_dispatchers_at_once_deliver_every_event_once_and_in_order",
    ),
    "job contactless_silence": _CONTACTLESS,
    "job carrier_poll": (
        "test_races_jobs.py::test_polls_raced_with_callbacks_move_each_order_once",
        "test_carrier_poll_money_races.py::"
        "test_polls_raced_with_buyer_moves_and_cancels_pay_and_count_once",
    ),
    "job after_sales": (
        "test_races_jobs.py::test_after_sales_sweeps_at_once_settle_each_once",
        "test_customs_tax_races.py::test_express_refunds_raced_with_customs_rejection_keep_no_tax",
        "test_customs_tax_races.py::test_lapsed_declarations_declared_from_many_consoles_take_the_tax_back_once",
        # Tax advanced for goods a forced settlement left out, taken back after day 45.
        "test_customs_never_arrived_race.py::"
        "test_advanced_tax_of_goods_left_out_is_taken_back_once_by_sweeps_and_late_receipts",
    ),
    "job retention": (
        "test_retention_races.py::"
        "test_sweeps_raced_with_accounts_orders_and_ops_reads_erase_each_buyer_once",
    ),
    "job plan_carrier_day": (
        "test_races_jobs.py::test_day_plans_raced_with_bookings_keep_every_visit",
    ),
}

NOT_MOVING: dict[str, str] = {
    "job attempt_limits": "deletes expired attempt counts (rate limits, not quantities)",
    "POST /auth/token": "signs in: a token; the sign-in throttle is a rate limit, not a quantity",
    "POST /auth/logout": "revokes the caller's token",
    "POST /returns/quote": "computes what filing would refund; stores nothing",
    "POST /returns/{return_id}/evidence": "attaches text and photos to a return",
    "POST /returns/{return_id}/shipment": "records the buyer's own waybill",
    "POST /returns/{return_id}/dispute/evidence": "the buyer's side of a dispute; ops decide",
    "POST /courier/handover": "records parcels handed to the depot (custody, no money)",
    "POST /ops/contactless/{appointment_id}/resolve": "records ops' decision on a disputed "
    "locker handover (no refund, clawback or window)",
    "POST /ops/exchanges/{return_id}/tracking": "records where the replacement is; its stock "
    "was taken when the exchange was filed",
    "POST /ops/policy": "stores the next policy version",
    "PUT /me/notifications": "the caller's notification channels",
    "POST /partner/products": "catalogue data; no unit, stock or money is held against a product",
    "POST /photos": "stores one re-encoded image (size and type bounded)",
    "page POST /login": "signs in",
    "page POST /logout": "signs out",
    "page POST /console/policy": "stores the next policy version",
    "page POST /portal/returns/quote": "computes what filing would refund; stores nothing",
    "page POST /portal/returns/{return_id}/shipment": "records the buyer's own waybill",
    "page POST /portal/returns/{return_id}/dispute": "the buyer's side of a dispute",
    "page POST /console/contactless/{appointment_id}/resolve": "records ops' decision",
    # CLI commands
    "cli migrate": "schema migrations",
    "cli seed": "demo data into an empty development database",
    "cli worker": "runs the jobs above (each raced as a job)",
    "cli serve": "runs the web process (its paths are the routes above)",
    "cli simulate": "simulates in memory; writes result files only",
    "cli sandbox-carrier": "a fake courier company for development",
    "cli bench": "benchmarks in memory",
    "cli bench vrptw": "benchmarks in memory",
    "cli bench vrptw-ortools": "benchmarks in memory",
}


def _routers() -> Iterator[tuple[str, object, APIRouter]]:
    for prefix, pkg in (("", api_pkg), ("page ", web_pkg)):
        for info in pkgutil.iter_modules(pkg.__path__):
            module = importlib.import_module(f"{pkg.__name__}.{info.name}")
            router = getattr(module, "router", None)
            if isinstance(router, APIRouter):
                yield prefix, module, router


def _service_calls(module: object, endpoint: object, depth: int = 1) -> set[str]:
    """Names of doorstep.services functions the endpoint calls or hands on (to a thread pool,
    ``anyio.to_thread.run_sync(service.fn, ...)``), and those of the module's own helpers it
    uses, ``depth`` levels down."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(endpoint)))  # type: ignore[arg-type]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = getattr(module, node.value.id, None)
            if inspect.ismodule(target) and target.__name__.startswith("doorstep.services"):
                found.add(node.attr)
        elif isinstance(node, ast.Name):
            target = getattr(module, node.id, None)
            owner = getattr(target, "__module__", "") or ""
            if inspect.isfunction(target) and owner.startswith("doorstep.services"):
                found.add(node.id)
            elif (
                inspect.isfunction(target)
                and owner == getattr(module, "__name__", None)
                and depth > 0
                and target is not endpoint
            ):
                found |= _service_calls(module, target, depth - 1)
    return found


def write_paths() -> dict[str, set[str] | None]:
    """Every write path: label -> the service functions it calls (None for jobs and commands,
    whose races are named by hand; a route whose services are not found is a problem)."""
    paths: dict[str, set[str] | None] = {}
    for prefix, module, router in _routers():
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            for method in route.methods - {"GET", "HEAD"}:
                label = f"{prefix}{method} {route.path}"
                paths[label] = _service_calls(module, route.endpoint)
    for name in [*jobs.SWEEPS, jobs.PLAN_JOB]:
        paths[f"job {name}"] = None
    for name in _cli_commands(typer.main.get_command(cli_app), ""):
        paths[f"cli {name}"] = None
    return paths


def _cli_commands(command: object, prefix: str) -> Iterator[str]:
    for name, sub in getattr(command, "commands", {}).items():
        yield f"{prefix}{name}"
        yield from _cli_commands(sub, f"{prefix}{name} ")


@cache
def _module(file: str) -> ast.Module:
    return ast.parse((INTEGRATION / file).read_text())


def _problems(ref: str, services: set[str] | None) -> list[str]:
    file, _, name = ref.partition("::")
    if not (INTEGRATION / file).exists():
        return [f"{ref}: no such file"]
    tree = _module(file)
    functions = {
        n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    test = functions.get(name)
    if test is None:
        return [f"{ref}: no such test"]
    out = []
    params = {a.arg for a in test.args.args}
    via_fixture = {
        p
        for p in params
        if p in functions and {a.arg for a in functions[p].args.args} & BOTH_BACKENDS
    }
    if not (params & BOTH_BACKENDS or via_fixture):
        out.append(f"{ref}: not run on both backends (no wired/database_url fixture)")
    calls = _called(test)
    for helper in calls & functions.keys():  # one level down: a module helper that races
        calls |= _called(functions[helper])
    if not calls & {"race", "Barrier"}:
        out.append(f"{ref}: starts no racers together (race(...) or threading.Barrier)")
    if services is not None:
        text = (INTEGRATION / file).read_text()
        if not any(f"{s}(" in text for s in services | _callees(services)):
            out.append(f"{ref}: calls none of {sorted(services)} (the route's services)")
    return out


def _called(node: ast.AST) -> set[str]:
    return {
        (c.func.id if isinstance(c.func, ast.Name) else getattr(c.func, "attr", ""))
        for c in ast.walk(node)
        if isinstance(c, ast.Call)
    }


def _callees(services: set[str]) -> set[str]:
    """What the named service functions call (a route's service may hand its work to another,
    e.g. stations.take_dropoff to self_send.redeem_dropoff, which the race calls)."""
    out: set[str] = set()
    for info in pkgutil.iter_modules(services_pkg.__path__):
        module = importlib.import_module(f"{services_pkg.__name__}.{info.name}")
        for name in services:
            function = getattr(module, name, None)
            if inspect.isfunction(function) and function.__module__ == module.__name__:
                out |= _called(ast.parse(textwrap.dedent(inspect.getsource(function))))
    return out


def test_every_write_path_is_raced_or_reviewed_as_moving_nothing() -> None:
    paths = write_paths()
    assert len(paths) > 80  # the walk really reached the routers, jobs and commands
    unlisted = sorted(set(paths) - RACED.keys() - NOT_MOVING.keys())
    assert unlisted == [], "race these write paths or list them in NOT_MOVING:\n" + "\n".join(
        unlisted
    )
    assert RACED.keys() & NOT_MOVING.keys() == set()
    stale = sorted((RACED.keys() | NOT_MOVING.keys()) - set(paths))
    assert stale == [], f"listed paths that no longer exist: {stale}"
    problems = [
        p for label, refs in RACED.items() for ref in refs for p in _problems(ref, paths[label])
    ]
    assert problems == [], "\n".join(problems)


def test_a_race_is_at_least_twenty_at_once() -> None:
    assert RACERS >= 20


def test_the_check_refuses_a_test_that_races_nothing() -> None:
    # The walker itself can fail: a real test that does not race, and a missing one.
    assert _problems(
        "test_disruptions.py::test_reduced_capacity_keeps_earliest_bookings", None
    ) == [
        "test_disruptions.py::test_reduced_capacity_keeps_earliest_bookings: starts no racers "
        "together (race(...) or threading.Barrier)"
    ]
    assert _problems("test_races.py::test_nothing_here", None) == [
        "test_races.py::test_nothing_here: no such test"
    ]
