from django.urls import path

app_name = "classroom"

# Each area adds its routes in its own block, importing its own views module.
urlpatterns: list = []

# --- classes and rosters (classroom/views/classes.py) ---

# --- assignments and essay writing (classroom/views/assignments.py) ---

# --- marking (classroom/views/marking.py) ---

# --- progress (classroom/views/progress.py) ---
