"""Realtime as its server behaves: channel authorization, broadcast and Postgres Changes.

``pgpolicy.realtime`` was a module; its names stay importable from here.
"""

from pgpolicy.realtime.changes import (
    ChangeEvent,
    ChangeFeed,
    Subscription,
    SubscriptionError,
)
from pgpolicy.realtime.channels import (
    EXTENSIONS,
    Broadcast,
    ChannelAccess,
    authorize_channel,
    delivered_broadcasts,
)

__all__ = [
    "EXTENSIONS",
    "Broadcast",
    "ChangeEvent",
    "ChangeFeed",
    "ChannelAccess",
    "Subscription",
    "SubscriptionError",
    "authorize_channel",
    "delivered_broadcasts",
]
