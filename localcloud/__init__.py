"""An embedded, docker-free AWS for this project's stack: moto's server plus the fixes it needs.

Usage::

    import localcloud

    with localcloud.start() as endpoint:   # "http://127.0.0.1:<port>"
        boto3.client("s3", endpoint_url=endpoint, ...)

Nothing is patched at import time: the fixes in ``localcloud.fixes`` are applied by ``start()``.
"""

__version__ = "0.2.0"  # the local cloud's own version, reported by its identity endpoint

from localcloud.server import DUMMY_CREDENTIALS, PortInUse, check_port, start

__all__ = ["DUMMY_CREDENTIALS", "PortInUse", "__version__", "check_port", "start"]
