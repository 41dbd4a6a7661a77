"""Two-factor authentication guard, Danish first, and a calm 503 when the database is down."""

import logging
from urllib.parse import urlencode

from django.db import InterfaceError, OperationalError, connection, connections
from django.http import HttpResponseRedirect
from django.urls import reverse

from apu import views

logger = logging.getLogger(__name__)

# Pages a logged-in but not yet verified user may still reach.
TWO_FACTOR_OPEN_VIEWS = {
    "apu:logout",
    "apu:two_factor_verify",
    "apu:healthz",
    "set_language",
    "javascript-catalog",
}
# Enrolment pages, open only to a user with no confirmed device yet: enrolling a new device
# replaces the old one, so with a device it needs a code first, or a password alone would do.
TWO_FACTOR_ENROLMENT_VIEWS = {"apu:two_factor_setup", "apu:two_factor_qr"}
# Views that report a database outage themselves: the health check, in JSON for monitors.
ANSWERS_FOR_ITSELF = {"apu:healthz"}


class TwoFactorMiddleware:
    """Send a user who has enrolled a device, or who must enrol, through the TOTP step."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        view_name = request.resolver_match.view_name
        if view_name in TWO_FACTOR_OPEN_VIEWS:
            return None
        if user.totpdevice_set.filter(confirmed=True).exists():
            target = "apu:two_factor_verify"
        elif view_name in TWO_FACTOR_ENROLMENT_VIEWS:
            return None
        elif user.needs_two_factor():
            target = "apu:two_factor_setup"
        else:
            return None
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse(target)}?{query}")


class DanishFirstLocaleMiddleware:
    """Danish unless the user picked another language with the switcher (a cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a clinic PC set
    up in English would show English; the clinic wants Danish first, English on request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation
        from django.utils.cache import patch_vary_headers

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        available = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


class DatabaseUnavailableMiddleware:
    """Answer 503 "try again shortly" when the database cannot be reached, never a 500.

    Goes right after WhiteNoise, before the session and authentication middleware whose
    lazy lookups are the first to need the database: its ``process_view`` then runs first,
    and its ``process_exception`` sees a database error from the view or its template.
    The database can also go while the session is saved after the view: Django answers
    that with a 400 (or ``handler500``, which answers 503 itself), turned into the 503 here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in (400, 500) and database_lost():
            # The session middleware answers 400 ("the session was deleted") to any failure
            # to save the session, and DEBUG a 500; with the database gone, it was the outage.
            return self.unavailable(request, f"lost during the request, {response.status_code}")
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # What the first query would do anyway (the CONN_HEALTH_CHECKS check, then connect),
        # done here so that a database that is down is found before any lookup needs it.
        try:
            connection.close_if_health_check_failed()
            connection.ensure_connection()
        except (OperationalError, InterfaceError) as error:
            if request.resolver_match.view_name in ANSWERS_FOR_ITSELF:
                # Now, before the session lookups of the middleware after this one fail.
                forget_session(request)
                return view_func(request, *view_args, **view_kwargs)
            return self.unavailable(request, type(error).__name__)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            return self.unavailable(request, type(exception).__name__)
        return None

    def unavailable(self, request, cause: str):
        # The view's name only: a URL can hold search terms (names, CPR numbers), and the
        # error's text adds nothing a monitor needs.
        view_name = getattr(request.resolver_match, "view_name", None) or "-"
        logger.warning("Database unavailable (%s) in %s; answered 503", cause, view_name)
        # Drop a broken connection now, so the next request connects afresh.
        for each in connections.all(initialized_only=True):
            if each.connection is not None and not each.is_usable():
                each.close()
        forget_session(request)
        response = views.database_unavailable(request)
        # The line above is the log of it; django.request would add an ERROR for each 503.
        response._has_been_logged = True
        return response


def database_lost() -> bool:
    """Whether the connection failed during this request and cannot be used any more."""
    return connection.errors_occurred and (
        connection.connection is None or not connection.is_usable()
    )


def forget_session(request) -> None:
    """Leave the session alone on the way out: it can be neither read nor saved now.

    With SESSION_SAVE_EVERY_REQUEST the session middleware reads the session to refresh its
    cookie; with no session on the request, it leaves the response and the cookie be.
    """
    if hasattr(request, "session"):
        del request.session
