"""Two-factor authentication guard."""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse

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
