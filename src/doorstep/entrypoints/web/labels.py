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
    "lost_in_delivery": N_("Lost in delivery (never arrived)"),
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
    "seal_intact": N_("Seal intact"),
    "serial_matches": N_("Serial number matches"),
    "tags_attached": N_("Tags attached"),
    "accessory_warranty_card": N_("Warranty card"),
    "accessory_manual": N_("Manual"),
    "accessory_battery": N_("Battery"),
    "accessory_power_cord": N_("Power cord"),
    "accessory_charger": N_("Charger"),
    "accessory_tag": N_("Tag"),
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
    "return.dropped_off": N_("Handed in at a drop-off station"),
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
    "return.partly_refused_at_door": N_("Some units refused at the door; they stay with you"),
    "appointment.booked": N_("Pickup window booked"),
    "appointment.return_joined": N_("Added to a booked visit"),
    "appointment.return_left": N_("Removed from the visit"),
    "appointment.rescheduled": N_("Pickup window changed"),
    "appointment.courier_assigned": N_("Courier assigned"),
    "appointment.courier_unassigned": N_("Courier withdrawn; the visit awaits another"),
    "appointment.eta_updated": N_("Estimated arrival updated"),
    "appointment.unserved": N_("No courier can keep this visit yet"),
    "appointment.courier_arrived": N_("Courier arrived"),
    "appointment.completed": N_("Visit completed"),
    "appointment.attempt_failed": N_("Pickup attempt failed"),
    "appointment.cancelled": N_("Pickup visit cancelled"),
    "appointment.cancel_overtaken": N_("Collected before the cancel reached the company"),
    "appointment.contactless_review_opened": N_("Contactless pickup: please check the photos"),
    "appointment.handover_confirmed": N_("Contactless pickup confirmed"),
    "appointment.handover_disputed": N_("Contactless pickup disputed"),
    "appointment.handover_dispute_resolved": N_("Contactless dispute decided"),
    "refund.requested": N_("Refund requested"),
    "refund.succeeded": N_("Refund paid"),
    "refund.attempt_failed": N_("Refund attempt failed; retrying"),
    "return.refund_quoted": N_("Refund amount worked out"),
    "return.refund_overdue": N_("Refund overdue; escalated to operations"),
    # A courier company's pickup order (issue 8): its courier and tracking.
    "return.arrived_at_warehouse": N_("Arrived at the warehouse door"),
    "carrier_order.created": N_("Pickup order placed with the courier company"),
    "carrier_order.accepted": N_("Courier company accepted the pickup"),
    "carrier_order.courier_assigned": N_("Courier company assigned a courier"),
    "carrier_order.rescheduled": N_("Courier company moved the pickup time"),
    "carrier_order.picked_up": N_("Courier company collected the parcel"),
    "carrier_order.in_transit": N_("Courier company: in transit"),
    "carrier_order.delivered": N_("Courier company delivered to the warehouse"),
    "carrier_order.failed": N_("Courier company could not collect"),
    "carrier_order.cancelled": N_("Pickup order cancelled"),
    "carrier_order.cancel_overtaken": N_("Courier company had collected the parcel already"),
    "carrier_order.ops_settled": N_("Ops settled the pickup collected after a cancel"),
    "carrier_order.settled": N_("Courier company settled weight and freight"),
    "carrier_order.create_failed": N_("Courier company refused the pickup order"),
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
    "if_arrives": N_(
        "The import tax is refunded if customs accepts the return and the parcel is back by"
    ),
    "application_late": N_(
        "The import tax is not refunded: the return was requested more than 30 days after your order cleared customs"
    ),
    "arrived_late": N_(
        "The import tax is not refunded: the parcel came back more than 45 days after your order cleared customs"
    ),
    "release_unknown": N_(
        "The import tax is refunded once we know when your order cleared customs"
    ),
    "customs_settled": N_("The import tax was given back with the customs return"),
    "customs_pending": N_("The import tax goes back once customs accepts the return"),
    "customs_rejected": N_("The import tax is not refunded: customs rejected the return"),
    "not_declared": N_(
        "The import tax is not refunded: the return was not declared to customs within 30 days of clearance"
    ),
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

# Why a return waits for a person, said to the buyer: never the rule's internal name.
HOLD_REASON = {
    "buyer_under_review": N_("Some returns are checked by a person before they are approved."),
    "evidence_missing": N_("A photo of the problem helps us approve a quality claim."),
    "high_value": N_("Returns of a high value are checked by a person."),
    "customs_release_unknown": N_("We are waiting for the customs clearance date of your order."),
    "refund_only_goods_kept": N_("Refunds without sending the item back are checked by a person."),
    "refund_only_above_instant_limit": N_(
        "Refunds without sending the item back are checked by a person."
    ),
    "refund_only_trust_too_low": N_(
        "Refunds without sending the item back are checked by a person."
    ),
}

# A method the decision does not offer, in a sentence (findings' own texts cover the rest).
UNAVAILABLE = {
    "deadline_passed": N_("The last day for this has passed."),
}

# The buyer's timeline in the buyer's words, where they differ from the ops wording.
BUYER_EVENT = {
    "return.submitted": N_("You asked to return this"),
    "return.evidence_added": N_("Your photo was added"),
    "return.held_for_review": N_("Waiting for a person to check it"),
    "appointment.booked": N_("Door pickup booked"),
    "appointment.rescheduled": N_("Pickup moved to a new time"),
    "appointment.courier_assigned": N_("Courier assigned"),
    "appointment.courier_unassigned": N_("Your courier changed; another will be assigned"),
    "appointment.eta_updated": N_("The courier's expected arrival"),
    "appointment.courier_arrived": N_("The courier arrived"),
    "appointment.cancelled": N_("Door pickup cancelled"),
    "return.pickup_released": N_("Choose a new way to send it"),
    "return.picked_up": N_("The courier collected your parcel"),
    "return.in_transit": N_("On the way to the warehouse"),
    "return.received": N_("The warehouse received your parcel"),
    "return.quality_checked": N_("Checked by the warehouse"),
    "return.refunded": N_("Refund paid"),
    "refund.succeeded": N_("Refund paid"),
    "refund.attempt_failed": N_("Refund delayed; we retry automatically"),
}

# Policy parameters as ops read them (the code stays visible next to the label).
PARAM = {
    "no_reason_days": N_("Days for a no-reason return"),
    "quality_days": N_("Days for a quality return"),
    "allergy_days": N_("Days for an allergy return"),
    "allergy_categories": N_("Categories with allergy returns"),
    "seal_categories": N_("Categories that need an intact seal"),
    "tag_categories": N_("Categories that need their tags"),
    "activation_categories": N_("Categories that must not be activated"),
    "application_days": N_("Days after customs clearance to apply"),
    "arrival_days": N_("Days after customs clearance to arrive back"),
    "pickup_cutoff_day": N_("Last day for door pickup"),
    "dropoff_cutoff_day": N_("Last day for drop-off"),
    "self_ship_cutoff_day": N_("Last day to ship it yourself"),
    "max_weight_g": N_("Heaviest parcel for pickup (g)"),
    "max_side_mm": N_("Longest side for pickup (mm)"),
    "max_sum_of_sides_mm": N_("Sum of sides for pickup (mm)"),
    "reasons": N_("Reasons that need evidence"),
    "threshold_fen": N_("Review above (fen)"),
    "days": N_("Days to ship"),
    "return_freight_fen": N_("Standard return freight (fen)"),
    "refund_due_days": N_("Days to pay a refund"),
}

# The outbox console page (web/console_outbox.py).
DELIVERY = {
    "pending": N_("Pending"),
    "retrying": N_("Retrying"),
    "delivered": N_("Delivered"),
    "dead": N_("Dead letter"),
}
CHANNEL = {"sms": N_("Text message"), "email": N_("E-mail")}

# Exchanges, drop-off and customs returns (issue 9 §6-8).
EXCHANGE = {
    "reserved": N_("Replacement reserved for you"),
    "shipped": N_("Replacement on its way"),
    "completed": N_("Exchange done"),
    "released": N_("Replacement released"),
    "charged": N_("Replacement to be paid for: the returned item failed the check"),
}
BUYER_EVENT.update(
    {
        "exchange.reserved": N_("Replacement reserved for you"),
        "exchange.replacement_shipped": N_("Your replacement was shipped"),
        "exchange.replacement_tracking": N_("Replacement tracking update"),
        "exchange.completed": N_("Exchange done"),
        "exchange.released": N_("Replacement released"),
        "exchange.reduced": N_("Replacement reduced to the units picked up"),
        "exchange.charged": N_("Replacement to be paid for: the returned item failed the check"),
        "recovery.requested": N_("Replacement's price to be charged"),
        "recovery.succeeded": N_("Replacement's price charged"),
        "recovery.attempt_failed": N_("Charging the replacement's price failed; retrying"),
        "return.converted_to_refund": N_("Changed to a refund"),
        "return.dropoff_code_issued": N_("Drop-off code issued"),
        "return.exchanged": N_("Exchange done"),
        "money.succeeded": N_("Price difference settled"),
    }
)
# Money after the refund (issue 9 §3, §5).
EVENT.update(
    {
        "return.transit_damaged": N_("Damaged in transit: the carrier answers for it"),
        "return.dispute_upheld": N_("Dispute decided in your favour"),
        "return.dispute_lost": N_("Dispute decided: the quality check stands"),
        "dispute.opened": N_("Quality check failed: you may answer"),
        "dispute.answered": N_("Your answer was received"),
        "dispute.decided": N_("Dispute decided"),
        "clawback.requested": N_("Express refund to be taken back"),
        "clawback.succeeded": N_("Express refund taken back"),
        "clawback.attempt_failed": N_("Taking back the refund failed; retrying"),
        "tax_clawback.requested": N_("Import tax advanced with the refund to be taken back"),
        "tax_clawback.succeeded": N_("Import tax advanced with the refund taken back"),
        "tax_clawback.attempt_failed": N_("Taking back the import tax failed; retrying"),
    }
)

DISPUTE_STATUS = {
    "awaiting_buyer": N_("Waiting for the buyer"),
    "answered": N_("Answered by the buyer"),
    "buyer_upheld": N_("Buyer is right"),
    "qc_upheld": N_("Quality check upheld"),
}

CLAIM_STATUS = {
    "awaiting_merchant": N_("Waiting for the merchant"),
    "in_review": N_("With operations"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "compensated": N_("Compensated"),
}

CLAIM_KIND = {
    "damage_on_arrival": N_("Damaged on arrival"),
    "transit_damage": N_("Damaged in transit"),
    "counterfeit": N_("Counterfeit"),
}

LIABILITY = {
    "merchant": N_("Merchant"),
    "carrier": N_("Courier company"),
    "own_fleet": N_("Own fleet"),
}

EVIDENCE_SOURCE = {
    "buyer": N_("Buyer"),
    "merchant": N_("Merchant"),
    "door_inspection": N_("Door inspection"),
    "warehouse_qc": N_("Warehouse QC"),
}

TRANSFER_STATUS = {
    "pending": N_("Pending"),
    "succeeded": N_("Done"),
    "failed": N_("Failed"),
}

# The customs console (issue 9 §7): a declaration's state and which deadline comes next.
CUSTOMS_STATUS = {
    "open": N_("Collecting returns"),
    "submitted": N_("Declared, awaiting customs"),
    "accepted": N_("Accepted by customs"),
    "rejected": N_("Rejected by customs"),
    "settled": N_("Settled"),
    "lapsed": N_("Not declared in time"),
}

CUSTOMS_DEADLINE = {
    "application": N_("Declare by"),
    "arrival": N_("Goods back by"),
}

# The transfers console page (web/console_transfers.py).
TRANSFER_PURPOSE = {
    "exchange_collect": N_("Exchange difference from the buyer"),
    "exchange_refund": N_("Exchange difference to the buyer"),
    "exchange_payback": N_("Exchange difference paid back"),
    "exchange_part": N_("Difference of units not picked up, paid back"),
    "exchange_more": N_("Rest of the exchange difference from the buyer"),
    "exchange_more_bk": N_("Rest of the exchange difference paid back"),
    "exchange_recover": N_("Replacement charged after a failed check"),
    "customs_tax": N_("Import tax given back"),
    "customs_tax_ret": N_("Import tax given back"),
    "clawback": N_("Express refund taken back"),
    "claim": N_("Claim compensation"),
    "tax_clawback": N_("Advanced import tax taken back"),
}
