from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("measurements/", views.worklist, name="worklist"),
    path(
        "courses/<int:pk>/measurements/<str:instrument>/",
        views.measurement_new,
        name="measurement_new",
    ),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<str:table>.<str:fmt>", views.dashboard_table_export, name="dashboard_export"),
    path("improvement-log/", views.improvement_log, name="improvement_log"),
]
