from django.urls import path

from modules import views

app_name = "modules"

urlpatterns = [
    path("today/", views.today, name="today"),
    path("groups/", views.group_list, name="group_list"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("groups/<int:pk>/generate/", views.group_generate, name="group_generate"),
    path("sessions/<int:pk>/", views.session_attendance, name="session_attendance"),
    path("sessions/<int:pk>/tap/", views.session_tap, name="session_tap"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/move/", views.session_move, name="session_move"),
    path("courses/<int:pk>/enrol/", views.course_enrol, name="course_enrol"),
    path("courses/<int:pk>/appointments/new/", views.appointment_new, name="appointment_new"),
    path("courses/<int:pk>/formulation/", views.formulation_edit, name="formulation_edit"),
    path("courses/<int:pk>/plan/", views.plan_edit, name="plan_edit"),
    path("enrolments/<int:pk>/end/", views.enrolment_end, name="enrolment_end"),
    path("enrolments/<int:pk>/switch/", views.enrolment_switch, name="enrolment_switch"),
    path("waiting/<int:pk>/enrol/", views.waiting_enrol, name="waiting_enrol"),
    path(
        "appointments/<int:pk>/attendance/",
        views.appointment_attendance,
        name="appointment_attendance",
    ),
]
