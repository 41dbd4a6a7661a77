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
]
