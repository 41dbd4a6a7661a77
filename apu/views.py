import io
import sys

import qrcode
import qrcode.image.svg
from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from apu import services
from apu.forms import TokenForm


def home(request: HttpRequest) -> HttpResponse:
    """The landing page after login, with what this role can do."""
    return render(request, "apu/home.html")


@never_cache
def account(request: HttpRequest) -> HttpResponse:
    """The user's own account: role, municipality and two-factor status."""
    has_device = request.user.totpdevice_set.filter(confirmed=True).exists()
    return render(request, "apu/account.html", {"has_device": has_device, "form": TokenForm()})


def _next_url(request: HttpRequest, default: str = "apu:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse_lazy(default)


@never_cache
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code, then confirm with a first code."""
    device = services.totp_device_for_enrolment(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.confirm_totp_device(request, token=form.cleaned_data["token"])
        except ValidationError as error:
            form.add_error("token", error)
        else:
            messages.success(request, _("Two-factor authentication is now on for your account."))
            return redirect(_next_url(request))
    context = {"form": form, "secret": _base32(device.bin_key), "next": _next_url(request)}
    return render(request, "apu/two_factor_setup.html", context)


def _base32(key: bytes) -> str:
    from base64 import b32encode

    text = b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@never_cache
@require_GET
def two_factor_qr(request: HttpRequest) -> HttpResponse:
    """The enrolment QR code as SVG (an image of our own origin, allowed by the CSP)."""
    device = services.totp_device_for_enrolment(request.user)
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


@never_cache
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second login step: a code from the user's authenticator app."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.verify_totp(request, token=form.cleaned_data["token"])
        except ValidationError as error:
            form.add_error("token", error)
        else:
            return redirect(_next_url(request))
    return render(request, "apu/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@require_POST
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    """Turn two-factor authentication off, where the user's role allows it."""
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            services.remove_two_factor(request, token=form.cleaned_data["token"])
        except ValidationError as error:
            form.add_error("token", error)
        else:
            messages.success(request, _("Two-factor authentication is now off for your account."))
            return redirect("apu:account")
    if request.user.needs_two_factor():
        # The account page shows this role no form to put the error by: say it at the top.
        messages.error(request, services.TWO_FACTOR_REQUIRED)
    return render(request, "apu/account.html", {"has_device": True, "form": form}, status=400)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 when it does not; for load balancers and monitors."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        connection.close_if_unusable_or_obsolete()
        return JsonResponse({"database": "unavailable"}, status=503)
    return JsonResponse({"database": "ok"})


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    """500 page; a lost database connection gets a calmer 503 'try again shortly' page."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        return database_unavailable(request)
    return HttpResponse(render_to_string("500.html"), status=500)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 'try again shortly', rendered without the request: its context needs the database."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "10"
    add_never_cache_headers(response)
    return response


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's login goes to the site's login (lock-out and two-factor apply there).

    An admin already logged in (and, where it applies, past the second factor: the two-factor
    middleware sees to that first) goes on to ``next`` if it is safe, or to the admin's index.
    """
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            return redirect(_next_url(request, default="admin:index"))
        # Logged in but not staff: the admin is not for this role.
        raise PermissionDenied
    return redirect_to_login(request.GET.get("next", "/admin/"))


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "emails/password_reset.txt"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("apu:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("apu:password_reset_complete")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("apu:account")

    def form_valid(self, form):
        messages.success(self.request, _("Your password has been changed."))
        return super().form_valid(form)
