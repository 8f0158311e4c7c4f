from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from cobro.api import hooks, resources, statements
from cobro.api.core import api
from cobro.api.problems import problem_response

api.add_router("/", resources.router)
api.add_router("/", hooks.router)
api.add_router("/", statements.router)


@csrf_exempt
def not_found(request, rest=""):
    """Anything else under /api/ answers like the API does: a problem, never the site's HTML page."""
    return problem_response(404, "no such API path; see /api/v1/docs")


urlpatterns = [
    path("v1/", api.urls),
    re_path(r"^(?P<rest>.*)$", not_found),
]
