"""Realtime as its server behaves: private-channel authorization and broadcast delivery.

``pgpolicy.realtime`` was a module; its names stay importable from here.
"""

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
    "ChannelAccess",
    "authorize_channel",
    "delivered_broadcasts",
]
