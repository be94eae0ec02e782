from allauth.socialaccount.providers.openid_connect import views as openid_connect
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from classroom.forms import AdminLoginForm
from classroom.views import core

urlpatterns = [
    path("", core.home, name="home"),
    path("healthz", core.healthz, name="healthz"),
    path("readyz", core.readyz, name="readyz"),
    path("accounts/login/", core.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", core.password_change, name="password_change"),
    # Sign-in with the school's accounts: allauth's OpenID Connect start and callback only
    # (allauth's names, which it reverses; none of its other account pages).
    path("accounts/oidc/<str:provider_id>/login/", openid_connect.login, name="openid_connect_login"),
    path("accounts/oidc/<str:provider_id>/login/callback/", openid_connect.callback, name="openid_connect_callback"),
    path("classroom/", include("classroom.urls")),
    path("learn/", include("crisis.urls_content")),
    path("admin/", admin.site.urls),
]

admin.site.login_form = AdminLoginForm
admin.site.site_header = "Crisis Classroom administration"
admin.site.site_title = "Crisis Classroom admin"
