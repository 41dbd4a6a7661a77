from django.urls import path

from coordination import views

app_name = "coordination"

urlpatterns = [
    path("referrals/<int:pk>/decide/", views.decide_referral, name="decide_referral"),
    path("meetings/", views.worklist, name="worklist"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/schedule/", views.meeting_schedule, name="meeting_schedule"),
    path("meetings/<int:pk>/outcome/", views.meeting_outcome, name="meeting_outcome"),
    path("meetings/<int:pk>/minutes/", views.meeting_minutes, name="meeting_minutes"),
    path("meetings/<int:pk>/invitation.ics", views.meeting_ics, name="meeting_ics"),
    path("actions/<int:pk>/done/", views.action_done, name="action_done"),
    path("courses/<int:pk>/meetings/new/", views.extra_meeting, name="extra_meeting"),
    path("courses/<int:pk>/discharge/", views.discharge, name="discharge"),
    path("calendar/", views.calendar_settings, name="calendar_settings"),
    path("calendar/renew/", views.calendar_renew, name="calendar_renew"),
    path("calendar/revoke/", views.calendar_revoke, name="calendar_revoke"),
    path("calendar/feed/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
