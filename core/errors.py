"""Domain errors. Services raise them; one API exception handler turns them into HTTP errors."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule of the domain was broken by the caller; the message is safe to show to users."""

    status_code = 400
    code = "domain_error"

    def __init__(
        self, message: str | None = None, *, field: str | None = None, extra: dict | None = None
    ):
        self.message = str(message or self.default_message())
        self.field = field
        # More of the answer's body (what the client needs to act on the error).
        self.extra = extra or {}
        super().__init__(self.message)

    @classmethod
    def default_message(cls) -> str:
        return str(_("The request breaks a rule of the domain."))


class IllegalTransition(DomainError):
    status_code = 409
    code = "illegal_transition"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"

    @classmethod
    def default_message(cls) -> str:
        return str(_("Not found."))


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Stale(Conflict):
    """The caller acted on an older version of a request: `extra["current"]` is it as it is."""

    code = "stale"

    @classmethod
    def default_message(cls) -> str:
        return str(_("Someone changed this request meanwhile: it is shown as it is now."))


class RulesBroken(Conflict):
    """An assignment breaks planning rules (`extra["problems"]`); the caller may confirm it."""

    code = "rules"

    @classmethod
    def default_message(cls) -> str:
        return str(_("The assignment breaks planning rules: confirm to assign anyway."))
