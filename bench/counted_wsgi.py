"""wsgi:app with the X-Query-Count header installed, for the benchmarks (GRANTS_COUNT_QUERIES=1).

Installing twice is harmless, so this keeps working once create_app installs the hook itself.
"""

from grants.core.querycount import install_query_count
from wsgi import app

install_query_count(app)
