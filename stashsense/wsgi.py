import threading

from django.core.wsgi import get_wsgi_application

from stashsense.startup import load_settings_or_exit

load_settings_or_exit()
application = get_wsgi_application()

# The index loads in the background from start-up on, so no request waits for it.
from recognition.searchable_gallery import galleries_warm_up  # noqa: E402  (after setup)

threading.Thread(target=galleries_warm_up, daemon=True, name="index-warm-up").start()
