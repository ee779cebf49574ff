"""zaikio-ops: move an app's existing accounts onto Zaikio single sign-on.

The package reads the app's persons, organizations and memberships through a
configured schema mapping, audits what still needs a Zaikio account, issues
claim links, and talks to the Zaikio Hub (or the bundled local stand-in).
"""

from zaikio_ops import logsafe
from zaikio_ops.errors import ZaikioOpsError

logsafe.install()

__version__ = "0.1.0"

__all__ = ["ZaikioOpsError", "__version__"]
