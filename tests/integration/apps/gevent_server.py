"""gevent's own WSGI server (what gunicorn's gevent worker runs) serving gevent_wsgi.app wrapped
by hand with ``pyrometer.integrations.wsgi.wrap_app``: ``python gevent_server.py PORT``."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402
from gevent_wsgi import app  # noqa: E402

from pyrometer.integrations import wsgi  # noqa: E402

if __name__ == "__main__":
    server = WSGIServer(("127.0.0.1", int(sys.argv[1])), wsgi.wrap_app(app), log=None)
    server.serve_forever()
