"""The web pages for county officers, township leaders and researchers (server-rendered Jinja2).

`install_web(app)` mounts the static files and the page routers on the FastAPI app; everything
else here is loaded lazily so that importing the package costs nothing.
"""

from serving.web.mount import install_web

__all__ = ["install_web"]
