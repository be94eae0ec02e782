from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from classroom import views as classroom_views

urlpatterns = [
    path("", classroom_views.home, name="home"),
    path("healthz", classroom_views.healthz, name="healthz"),
    path("readyz", classroom_views.readyz, name="readyz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", classroom_views.password_change, name="password_change"),
    path("classroom/", include("classroom.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Crisis Classroom administration"
admin.site.site_title = "Crisis Classroom admin"
