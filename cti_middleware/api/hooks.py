"""Webhook subscription endpoints and the delivery log."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ..store.audit import audit
from ..store.db import connected
from ..store.validate import StoreError
from ..store.webhooks import (
    URL_MAX,
    WebhookDelivery,
    WebhookSubscription,
    add_subscription,
    delivery_to_dict,
    redeliver,
    subscription_to_dict,
    subscriptions_changed,
)
from .auth import actor, require
from .blueprint import api_bp
from .errors import ApiError
from .params import body, no_content, paginate, string, string_list

CREATE = {
    "url": string(URL_MAX, required=True),
    "events": string_list(10, 32, required=True),
    "secret": string(128),
}


def _subscription(sub_id: int) -> WebhookSubscription:
    sub = WebhookSubscription.get_or_none(WebhookSubscription.id == sub_id)
    if sub is None:
        raise ApiError(404, f"no webhook {sub_id}")
    return sub


@api_bp.get("/webhooks")
@require("events:read")
@connected
def list_webhooks() -> Any:
    query = WebhookSubscription.select().order_by(WebhookSubscription.id)
    return jsonify(paginate(query, subscription_to_dict))


@api_bp.post("/webhooks")
@require("events:read", "data:write")
@connected
def create_webhook() -> Any:
    data = body(CREATE)
    try:
        sub = add_subscription(data["url"], data["events"], secret=data.get("secret"),
                               created_by=actor())
    except StoreError as exc:
        raise ApiError(422, str(exc)) from None
    audit(actor(), "webhook.create", f"webhook:{sub.id}",
          {"url": sub.url, "events": sub.event_list}, "ok")
    # The secret is shown once, here; it is needed to verify signatures.
    return jsonify(subscription_to_dict(sub, secret=True)), 201


@api_bp.delete("/webhooks/<int:sub_id>")
@require("events:read", "data:write")
@connected
def delete_webhook(sub_id: int) -> Any:
    sub = _subscription(sub_id)
    sub.delete_instance()
    subscriptions_changed()
    audit(actor(), "webhook.delete", f"webhook:{sub_id}", {"url": sub.url}, "ok")
    return no_content()


@api_bp.get("/webhooks/<int:sub_id>/deliveries")
@require("events:read")
@connected
def list_deliveries(sub_id: int) -> Any:
    _subscription(sub_id)
    query = (
        WebhookDelivery.select()
        .where(WebhookDelivery.subscription == sub_id)
        .order_by(WebhookDelivery.id.desc())
    )
    return jsonify(paginate(query, delivery_to_dict))


@api_bp.post("/deliveries/<int:delivery_id>/redeliver")
@require("events:read", "data:write")
@connected
def redeliver_delivery(delivery_id: int) -> Any:
    row = redeliver(delivery_id)
    if row is None:
        raise ApiError(404, f"no delivery {delivery_id}")
    audit(actor(), "webhook.redeliver", f"delivery:{delivery_id}", {"new": row.id}, "ok")
    return jsonify(delivery_to_dict(row)), 202
