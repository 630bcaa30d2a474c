"""Tenant isolation in the database: PostgreSQL row-level security, and the scope it reads.

Every table with a tenant column has a policy (migration `core.0002_row_level_security`) that
shows, and accepts, only the rows of the tenants named in the session setting `app.tenants`:
a comma-separated list of tenant ids, or `*` for every tenant. Unset or empty, a query returns no
rows and an insert is refused: forgetting the scope fails closed.

The application's sessions run as `DATABASE_APP_ROLE`, a role without BYPASSRLS that owns no
table (so FORCE ROW LEVEL SECURITY binds it); migrations and management commands run as the
owner. The scope is set in one place per way in:
- a page: `TenantScopeMiddleware`, from the signed-in user (restored after the answer);
- the API: `core.api.TenantScopedView` after DRF authenticates (a token is read there);
- a public link or a provider's webhook: the tenant the slug, key or contact point names, once
  found through `every_tenant()` (the directory lookups that come before a tenant is known);
- a Celery task: every tenant (`config.celery.task`): tasks act on ids a committed transaction
  gave them, and the engine's beat tasks sweep all tenants;
- a socket: the consumer's user, around each database call.
"""

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress

from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection
from django.db.backends.signals import connection_created
from django.db.backends.utils import CursorWrapper
from django.db.utils import DEFAULT_DB_ALIAS

SETTING = "app.tenants"
EVERY_TENANT = "*"
NO_TENANT = ""

# Roles whose users also take contacts for the other clients listed on them (accounts.User.clients).
_SERVES_CLIENTS = ("dispatcher", "operator", "admin")
_CLIENTS_SQL = (
    "SELECT set_config(%s, concat_ws(',', %s::text, "
    "(SELECT string_agg(tenant_id::text, ',') FROM accounts_user_clients WHERE user_id = %s)), "
    "false)"
)

_app_role_enabled = False
# The scope a connection rests in between requests: none. The test suite rests in every tenant,
# so that its fixtures can write any tenant's rows; a request still runs in its user's scope.
_resting_scope = NO_TENANT


def app_role_enable() -> None:
    """From now on every new connection of this process works as the application role (the
    web, socket and worker processes call it at start; management commands do not)."""
    global _app_role_enabled
    _app_role_enabled = True


def app_role_enabled() -> bool:
    return _app_role_enabled


def resting_scope_set(value: str) -> None:
    global _resting_scope
    _resting_scope = scope_value(value)


def on_connection_created(sender, connection, **kwargs) -> None:
    """Receiver: a new connection of an application process takes the application role. Not
    the test runner's connection without a database (it creates and drops test databases)."""
    # A new session has no scope yet, whatever the one it replaces had.
    connection.tenancy_user, connection.tenancy_moved = None, False
    if _app_role_enabled and connection.alias == DEFAULT_DB_ALIAS and settings.DATABASE_APP_ROLE:
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {_quoted(settings.DATABASE_APP_ROLE)}")


def _set(cursor: CursorWrapper, value: str, *, local: bool = False) -> None:
    cursor.execute("SELECT set_config(%s, %s, %s)", [SETTING, value, local])
    # Whether the connection may be out of its resting scope: the page middleware then puts it
    # back, and only then (a signed-out page, such as liveness, asks the database nothing).
    connection.tenancy_moved = local or value != _resting_scope
    connection.tenancy_user = None


def scope_set(value: str) -> None:
    with connection.cursor() as cursor:
        _set(cursor, value)


def scope_set_for_user(user) -> None:
    """The scope of a user's work: platform staff every tenant; a client's user their tenant,
    and for intake roles the other clients they answer for; anyone else none. Set once per
    request: the API's authentication asks again for a user the page middleware already set."""
    signed_in = user is not None and user.is_authenticated
    # Only a session still open has the scope the marker says (a new one starts with none).
    opened = connection.connection is not None
    if signed_in and opened and getattr(connection, "tenancy_user", None) == user.pk:
        return
    with connection.cursor() as cursor:
        if not signed_in:
            _set(cursor, NO_TENANT)
        elif user.tenant_id is None:
            _set(cursor, EVERY_TENANT if user.is_staff else NO_TENANT)
        elif user.role in _SERVES_CLIENTS:
            cursor.execute(_CLIENTS_SQL, [SETTING, user.tenant_id, user.pk])
            connection.tenancy_moved = True
        else:
            _set(cursor, str(user.tenant_id))
        connection.tenancy_user = user.pk if signed_in else None


def scope_value(tenants: Iterable[int] | str) -> str:
    if isinstance(tenants, str):
        if tenants not in (EVERY_TENANT, NO_TENANT):
            raise ValueError(f"not a scope: {tenants!r}")
        return tenants
    return ",".join(str(int(tenant)) for tenant in tenants)


@contextmanager
def tenant_scope(tenants: Iterable[int] | str) -> Iterator[None]:
    """Work for these tenants (ids, or EVERY_TENANT) inside the block; the scope before it
    comes back after. When the block fails inside a transaction PostgreSQL has aborted, the
    rollback that follows undoes the change (a statement to undo it could not run)."""
    value = scope_value(tenants)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting(%s, true), set_config(%s, %s, false)",
            [SETTING, SETTING, value],
        )
        previous = cursor.fetchone()[0] or NO_TENANT
    connection.tenancy_moved = True
    connection.tenancy_user = None
    try:
        yield
    except BaseException:
        with suppress(DatabaseError, InterfaceError):
            scope_set(previous)
        raise
    _back_to(previous)


def _back_to(scope: str) -> None:
    """Put the scope back; when the connection broke meanwhile (PostgreSQL restarted), close it
    instead: its successor starts in no scope, and an answer already made stays the answer."""
    try:
        scope_set(scope)
    except (DatabaseError, InterfaceError):  # "connection already closed" is no DatabaseError
        with suppress(DatabaseError, InterfaceError):
            connection.close()


def every_tenant() -> AbstractContextManager[None]:
    """For the lookups that find which tenant a contact is for (a contact point, a tracking
    key) and for the platform's own sweeps: the only reads across tenants."""
    return tenant_scope(EVERY_TENANT)


def tenant_enter(tenant_id: int) -> None:
    """The rest of this page request works for this tenant (a public page that found its
    tenant from a slug or a link; `TenantScopeMiddleware` ends it with the request)."""
    scope_set(scope_value([tenant_id]))


def scope_for_transaction(tenant_id: int) -> None:
    """The rest of the current transaction works for this tenant (SET LOCAL: it ends with the
    transaction). For a service that finds its tenant inside its own transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("scope_for_transaction needs a transaction")
    with connection.cursor() as cursor:
        _set(cursor, scope_value([tenant_id]), local=True)


class TenantScopeMiddleware:
    """Each page request works in the signed-in user's scope (none when signed out); after the
    answer the connection rests in no tenant's scope again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or _resting_scope != NO_TENANT:
            scope_set_for_user(user)
        try:
            return self.get_response(request)
        finally:
            if getattr(connection, "tenancy_moved", False):
                _back_to(_resting_scope)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


RECEIVER_UID = "tenancy-app-role"


def connect_receiver() -> None:
    connection_created.connect(on_connection_created, dispatch_uid=RECEIVER_UID)
