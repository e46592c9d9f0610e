"""A local stand-in for the part of Stripe's API the app uses, for the demo and the tests.

Never imported by `donate/`: the app reaches it only through its Stripe API base setting.
"""

from sandbox.delivery import RetryPolicy
from sandbox.server import SandboxHandle, start_in_thread

__all__ = ["RetryPolicy", "SandboxHandle", "start_in_thread"]
