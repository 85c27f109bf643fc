"""An embedded, docker-free AWS for this project's stack: moto's server plus the fixes it needs.

Usage::

    import localcloud

    with localcloud.start() as endpoint:   # "http://127.0.0.1:<port>"
        boto3.client("s3", endpoint_url=endpoint, ...)

Nothing is patched at import time: the fixes in ``localcloud.fixes`` are applied by ``start()``.
"""

__version__ = "0.2.0"  # the local cloud's own version, reported by its identity endpoint

__all__ = ["DUMMY_CREDENTIALS", "PortInUse", "__version__", "check_port", "start"]


def __getattr__(name: str):
    # The server is imported on first use, so that the deploy can read templates with
    # localcloud.cloudformation.template_yaml without loading the local cloud.
    if name in __all__:
        from localcloud import server

        return getattr(server, name)
    raise AttributeError(f"module 'localcloud' has no attribute {name!r}")
