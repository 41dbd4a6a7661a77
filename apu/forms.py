from django import forms
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apu.models import User

COORDINATOR_NEEDS_MUNICIPALITY = _("A municipal coordinator must belong to a municipality.")


class TokenForm(forms.Form):
    """The six-digit code from an authenticator app."""

    token = forms.CharField(
        label=_("Code from your authenticator app"),
        min_length=6,
        max_length=6,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if not token.isdigit():
            raise ValidationError(_("The code has six digits."))
        return token


class _RoleMunicipalityMixin:
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == User.Role.COORDINATOR and not cleaned.get("municipality"):
            self.add_error("municipality", COORDINATOR_NEEDS_MUNICIPALITY)
        return cleaned


class UserCreationByAdminForm(_RoleMunicipalityMixin, forms.ModelForm):
    """An admin creates a user without a password; the user sets one from an e-mailed link."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role", "municipality"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_unusable_password()
        user.is_staff = user.role == User.Role.ADMIN
        if commit:
            user.save()
        return user


class UserChangeByAdminForm(_RoleMunicipalityMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
