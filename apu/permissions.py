"""Role checks for views. Row-level reach is decided by each model's ``QuerySet.for_user``."""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from apu.models import User


def role_required(*roles: str) -> Callable:
    """Allow the view only for ``roles`` (a superuser counts as admin); anyone else gets 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            role = User.Role.ADMIN if user.is_superuser else user.role
            if role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def get_for_user_or_404(queryset: models.QuerySet, user: User, **lookup) -> models.Model:
    """Fetch one object through ``queryset.for_user(user)``: out of reach answers 404, as absent."""
    try:
        return queryset.for_user(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as error:
        raise Http404 from error


def require_clinic_staff(user: User) -> None:
    """403 unless clinic staff; call it after fetching through ``for_user``, so an object out
    of reach has already answered 404, the same as one that does not exist."""
    if not user.is_clinic_staff:
        raise PermissionDenied
