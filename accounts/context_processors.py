def tenant(request) -> dict:
    user = getattr(request, "user", None)
    return {"tenant": getattr(user, "tenant", None) if user is not None else None}
