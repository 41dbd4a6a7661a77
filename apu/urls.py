"""The root URL conf: the shared pages of the apu app, then each app, the admin and i18n."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from apu import views
from evaluation import views as evaluation_views

apu_patterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", views.account, name="account"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/2fa/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("account/2fa/qr.svg", views.two_factor_qr, name="two_factor_qr"),
    path("account/2fa/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("account/2fa/remove/", views.two_factor_remove, name="two_factor_remove"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("healthz", views.healthz, name="healthz"),
]

handler500 = "apu.views.server_error"

urlpatterns = [
    path("", include((apu_patterns, "apu"))),
    path("", include("referrals.urls")),
    path("", include("coordination.urls")),
    path("", include("modules.urls")),
    path("", include("evaluation.urls")),
    path("", include("evaluation.research_urls")),
    # The course page is composed by the highest app that adds to it (evaluation); its URL
    # name stays "course_detail" so every app's templates can link to it.
    path("courses/<int:pk>/", evaluation_views.course_detail, name="course_detail"),
    # One login for the whole site, so lock-out and two-factor apply to the admin too.
    path("admin/login/", views.admin_login),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
]
