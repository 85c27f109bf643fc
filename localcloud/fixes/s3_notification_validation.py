"""PutBucketNotificationConfiguration validates its destinations and refuses overlapping configurations.

AWS behaviour: S3 checks every destination when the configuration is put. A Lambda function whose resource policy
does not let ``s3.amazonaws.com`` invoke it for this bucket (a permission with another bucket's ``SourceArn`` or
another ``SourceAccount`` does not count) is refused with InvalidArgument "Unable to validate the following
destination configurations"; two configurations sharing an event type with overlapping prefix/suffix filters are
refused with InvalidArgument "Configurations overlap. Configurations on the same bucket cannot share a common
event type." Nothing is stored in either case.

moto gap (5.2.5): ``S3Response`` stores whatever it parsed; nothing is checked.

This fix wraps ``S3Response._notification_config_from_body`` (the API path only: CloudFormation has its own
check in ``localcloud.cloudformation.resources.s3``) with the checks of ``localcloud.s3_permissions``.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.s3.responses import S3Response

from localcloud.patches import install
from localcloud.s3_permissions import check_notification_configuration


def apply() -> None:
    original = S3Response._notification_config_from_body

    @functools.wraps(original)
    def notification_config_from_body(self: S3Response) -> dict[str, Any]:
        config = original(self)
        if config:
            bucket = self.backend.get_bucket(self.bucket_name)
            check_notification_configuration(config, bucket.name, bucket.account_id, bucket.region_name)
        return config

    install(S3Response, "_notification_config_from_body", notification_config_from_body)
