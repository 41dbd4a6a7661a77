from django.urls import reverse

from apu.navigation import items_for


def navigation(request):
    """Role-aware navigation entries with their URLs and which one is current."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    current = request.path
    entries = []
    for item in items_for(user):
        url = reverse(item.url_name)
        is_current = current == url if url == "/" else current.startswith(url)
        entries.append({"label": item.label, "url": url, "current": is_current})
    return {"nav_entries": entries}
