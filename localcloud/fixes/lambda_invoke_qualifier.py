"""``Invoke`` runs the version or alias its ``Qualifier`` names; moto 5.2.5 always runs ``$LATEST``.

AWS behaviour: ``Invoke`` takes ``Qualifier`` (``?Qualifier=`` in the request: a published version number or an
alias name) and runs that version, answering ``X-Amz-Executed-Version`` with the version that ran (an alias
resolves to its version). The same holds for a qualified function name or ARN (``my-fn:live``).

moto gap: ``LambdaResponse.invoke`` reads a lowercase ``qualifier`` query parameter that no SDK sends, so
``--qualifier 1`` / ``Qualifier="live"`` silently ran ``$LATEST``.

This fix copies ``Qualifier`` to the parameter moto reads before its ``invoke`` handler runs.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.awslambda.responses import LambdaResponse

from localcloud.patches import install


def apply() -> None:
    original = LambdaResponse.invoke

    @functools.wraps(original)
    def invoke(self: LambdaResponse, *args: Any, **kwargs: Any) -> Any:
        qualifier = self.querystring.get("Qualifier")
        if qualifier and not self.querystring.get("qualifier"):
            self.querystring["qualifier"] = qualifier
        return original(self, *args, **kwargs)

    install(LambdaResponse, "invoke", invoke)
