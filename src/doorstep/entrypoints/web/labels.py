"""Human names for the domain's stable codes; English ids, translated through the catalogs.

Codes come from enums and event names; an unknown code is shown as itself, so a new state
never breaks a page, it only waits for its translation.
"""

from __future__ import annotations

from doorstep.entrypoints.web.i18n import N_

STATUS = {
    "submitted": N_("Submitted"),
    "in_review": N_("In review"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "awaiting_pickup": N_("Awaiting pickup"),
    "awaiting_dropoff": N_("Awaiting drop-off"),
    "picked_up": N_("Picked up"),
    "in_transit": N_("In transit"),
    "received": N_("Received at warehouse"),
    "inspected": N_("Passed quality check"),
    "refunded": N_("Refunded"),
    "exchanged": N_("Exchanged"),
    "disputed": N_("Disputed"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
    # appointment states
    "booked": N_("Booked"),
    "assigned": N_("Courier assigned"),
    "arrived": N_("Courier at the door"),
    "completed": N_("Collected"),
    "failed": N_("Attempt failed"),
}

KIND = {
    "refund": N_("Return and refund"),
    "exchange": N_("Exchange"),
    "refund_only": N_("Refund only"),
}

REASON = {
    "no_reason": N_("7-day no-reason return"),
    "quality": N_("Quality problem"),
    "wrong_item": N_("Wrong item sent"),
    "damaged_on_arrival": N_("Damaged on arrival"),
    "not_as_described": N_("Not as described"),
    "allergy": N_("Allergic reaction"),
    "counterfeit": N_("Suspected counterfeit"),
}

CONDITION = {
    "opened": N_("Opened"),
    "seal_intact": N_("Seal intact"),
    "tags_attached": N_("Tags attached"),
    "activated": N_("Activated or registered"),
    "used": N_("Used"),
    "accessories_complete": N_("Accessories complete"),
    "labels_intact": N_("Labels intact"),
}

VERDICT = {
    "pass": N_("Passed"),
    "reject": N_("Rejected"),
    "review": N_("Needs review"),
    "restrict": N_("Restricted"),
    "info": N_("Note"),
}

OUTCOME = {
    "approve": N_("Approved"),
    "reject": N_("Rejected"),
    "review": N_("Held for review"),
}

METHOD = {
    "pickup": N_("Door pickup"),
    "dropoff": N_("Drop-off at a station"),
    "self_ship": N_("Ship it yourself"),
}

CHECKLIST = {
    "outer_packaging": N_("Outer packaging present"),
    "plastic_wrap_intact": N_("Plastic wrap intact"),
    "original_box_present": N_("Original box present"),
    "original_box_undamaged": N_("Original box undamaged"),
    "unused": N_("Unused"),
    "barcode_matches": N_("Barcode / serial number matches"),
    "appearance_ok": N_("Appearance OK"),
    "accessories_complete": N_("Accessories complete"),
}

FAILURE = {
    "bad_phone": N_("Phone number wrong"),
    "buyer_unreachable": N_("Buyer unreachable"),
    "no_access": N_("No access to the building"),
    "time_changed_by_buyer": N_("Buyer changed the time"),
    "weather": N_("Bad weather"),
    "traffic": N_("Traffic"),
    "goods_not_acceptable": N_("Goods not acceptable"),
    "inspection_refused": N_("Inspection refused"),
}

GRADE = {
    "A": N_("A: resellable as new"),
    "B": N_("B: resellable as open box"),
    "C": N_("C: damaged (dispute)"),
    "reject": N_("Reject"),
}

EVENT = {
    "return.submitted": N_("Return submitted"),
    "return.evidence_added": N_("Evidence added"),
    "return.approved": N_("Return approved"),
    "return.rejected": N_("Return rejected"),
    "return.held_for_review": N_("Held for manual review"),
    "return.pickup_scheduled": N_("Door pickup booked"),
    "return.pickup_moved": N_("Pickup moved to another visit"),
    "return.pickup_released": N_("Pickup cancelled; choose again"),
    "return.awaiting_dropoff": N_("Waiting for you to send the parcel"),
    "return.shipped": N_("Parcel sent"),
    "return.inspected_at_door": N_("Inspected at the door"),
    "return.picked_up": N_("Picked up by the courier"),
    "return.in_transit": N_("In transit"),
    "return.received": N_("Received at the warehouse"),
    "return.quality_checked": N_("Passed the warehouse quality check"),
    "return.disputed": N_("Disputed after quality check"),
    "return.refunded": N_("Refunded"),
    "return.exchanged": N_("Replacement shipped"),
    "return.closed": N_("Closed"),
    "return.cancelled": N_("Return cancelled"),
    "return.inspection_voided": N_("Door inspection voided after a failed visit"),
    "appointment.booked": N_("Pickup window booked"),
    "appointment.return_joined": N_("Added to a booked visit"),
    "appointment.return_left": N_("Removed from the visit"),
    "appointment.rescheduled": N_("Pickup window changed"),
    "appointment.courier_assigned": N_("Courier assigned"),
    "appointment.eta_updated": N_("Estimated arrival updated"),
    "appointment.unserved": N_("No courier can keep this visit yet"),
    "appointment.courier_arrived": N_("Courier arrived"),
    "appointment.completed": N_("Visit completed"),
    "appointment.attempt_failed": N_("Pickup attempt failed"),
    "appointment.cancelled": N_("Pickup visit cancelled"),
    "refund.requested": N_("Refund requested"),
    "refund.succeeded": N_("Refund paid"),
    "refund.attempt_failed": N_("Refund attempt failed; retrying"),
    "return.refund_quoted": N_("Refund amount worked out"),
    "return.refund_overdue": N_("Refund overdue; escalated to operations"),
}

OVERDUE_STAGE = {
    "awaiting_qc": N_("Waiting for the quality check"),
    "not_started": N_("Refund not started"),
    "pending": N_("Waiting for the payment provider"),
    "failed": N_("Payment failed; needs operations"),
}

PART = {
    "goods": N_("Goods"),
    "tax": N_("Import tax withheld"),
    "return_freight": N_("Return freight"),
    "coupon": N_("Coupon share"),
    "full_reduction": N_("Full reduction no longer reached"),
    "free_shipping": N_("Free shipping no longer reached"),
    "gift": N_("Gift kept"),
    "balance": N_("Balance with your other refunds of this order"),
}

FREIGHT_PAYER = {
    "nobody": N_("Nothing is sent back"),
    "buyer": N_("You pay the return freight"),
    "seller": N_("The seller pays the return freight"),
    "shop": N_("The shop pays the return freight"),
    "insurance": N_("Freight insurance pays the return freight"),
}

TAX_STATUS = {
    "no_tax": N_("No import tax on these goods"),
    "refunded": N_("The import tax goes back"),
    "if_arrives": N_("The import tax goes back if the parcel is back by"),
    "application_late": N_("The import tax stays: the return came after day 30 of customs release"),
    "arrived_late": N_(
        "The import tax stays: the parcel came back after day 45 of customs release"
    ),
    "release_unknown": N_("The import tax stays until customs release is known"),
}

RULE = {
    "order_signed": N_("Order signed for"),
    "quantity_available": N_("Quantity still returnable"),
    "return_window": N_("Return window"),
    "legal_exclusion": N_("Legal exclusions"),
    "checkout_confirmed_exclusion": N_("Confirmed non-returnable at checkout"),
    "intact_condition": N_("Item intact"),
    "cross_border_deadline": N_("Cross-border deadlines"),
    "pickup_size_weight": N_("Size and weight for pickup"),
    "pickup_coverage": N_("Pickup coverage"),
    "buyer_blocklist": N_("Buyer blocklist"),
    "evidence_required": N_("Evidence required"),
    "high_value_review": N_("High-value review"),
    "ship_within": N_("Ship within"),
    "manual_review": N_("Manual review"),
    "refund_only_limits": N_("Refund-only limits"),
    "refund_terms": N_("Refund freight and timing"),
}
