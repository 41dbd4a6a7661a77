from django.urls import path

from evaluation import research_views

app_name = "research"

urlpatterns = [
    path("patients/<int:pk>/consent/", research_views.consent, name="consent"),
    path("research/export/", research_views.export, name="export"),
    path("research/export.csv", research_views.export_csv, name="export_csv"),
    path("research/data-dictionary.csv", research_views.dictionary_csv, name="dictionary_csv"),
]
