from django.contrib.auth import views as auth_views
from django.urls import path

from kartoteka.accounts import admin_views, two_factor, views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("login/verify/", two_factor.verify, name="two_factor_verify"),
    path("profile/2fa/", two_factor.setup, name="two_factor_setup"),
    path("profile/2fa/disable/", two_factor.disable, name="two_factor_disable"),
    path("profile/password/", views.password_change, name="password_change"),
    path("profile/tokens/", views.token_create, name="token_create"),
    path("profile/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("notifications/", views.notifications, name="notifications"),
    path("settings/users/", admin_views.users, name="users"),
    path("settings/users/<int:pk>/", admin_views.user_edit, name="user_edit"),
    path("settings/teams/", admin_views.teams, name="teams"),
    path("settings/teams/<int:pk>/", admin_views.teams, name="team_edit"),
    path("settings/roles/", admin_views.roles, name="roles"),
    path("settings/roles/<int:pk>/", admin_views.role_matrix, name="role_matrix"),
    path("settings/audit/", admin_views.audit_log, name="audit"),
]
