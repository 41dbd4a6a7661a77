from django import template
from django.utils.html import format_html

from apu.versioning import fingerprint

register = template.Library()


@register.simple_tag
def seen_input(instance, name: str = "seen"):
    """The hidden input carrying the fingerprint of the row as this page shows it."""
    return format_html('<input type="hidden" name="{}" value="{}">', name, fingerprint(instance))
