"""Writes to stock that staff make by hand (receipts and write-offs)."""

from django.db import transaction
from django.db.models import F
from rest_framework.exceptions import ValidationError

from .models import AdjustmentKind, MovementKind, StockAdjustment, StockItem, StockMovement


@transaction.atomic
def stock_adjust(*, product, warehouse, kind: str, quantity: int, reason: str, user) -> StockAdjustment:
    """Receive or write off stock; a write-off may not take on_hand below what is reserved."""
    item, _ = StockItem.objects.select_for_update().get_or_create(product=product, warehouse=warehouse)
    if kind == AdjustmentKind.RECEIVE:
        StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + quantity)
        movement_kind, signed = MovementKind.RECEIPT, quantity
    else:
        updated = StockItem.objects.filter(pk=item.pk, on_hand__gte=F("reserved") + quantity).update(
            on_hand=F("on_hand") - quantity
        )
        if not updated:
            raise ValidationError(
                {"quantity": [f"Cannot write off {quantity}: only {item.on_hand - item.reserved} of {product.sku} "
                              f"are available in {warehouse.code}."]}
            )
        movement_kind, signed = MovementKind.WRITE_OFF, -quantity
    adjustment = StockAdjustment.objects.create(
        product=product, warehouse=warehouse, kind=kind, quantity=quantity, reason=reason, created_by=user
    )
    StockMovement.objects.create(
        product=product, warehouse=warehouse, kind=movement_kind, quantity=signed,
        reference=f"ADJ-{adjustment.pk}", reason=reason, created_by=user,
    )
    return adjustment
