"""Allow ``python -m zaikio_ops``."""

from zaikio_ops.cli import main

main()
