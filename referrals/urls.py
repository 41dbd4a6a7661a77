from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("referrals/", views.referral_list, name="referral_list"),
    path("referrals/new/", views.referral_create, name="referral_create"),
    path("referrals/new/preview/", views.referral_preview, name="referral_preview"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/screen/", views.referral_screen, name="referral_screen"),
    path("referrals/<int:pk>/letter/", views.referral_letter, name="referral_letter"),
    path("patients/<int:pk>/", views.patient_detail, name="patient_detail"),
    path(
        "patients/<int:pk>/access-report/",
        views.patient_access_report,
        name="patient_access_report",
    ),
]
