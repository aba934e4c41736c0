import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stashsense.settings")
application = get_wsgi_application()

# The index loads in the background from start-up on, so no request waits for it.
from recognition.searchable_gallery import galleries_warm_up  # noqa: E402  (after setup)

threading.Thread(target=galleries_warm_up, daemon=True, name="index-warm-up").start()
