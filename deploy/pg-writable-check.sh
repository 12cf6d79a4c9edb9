#!/bin/sh
# HAProxy's external check for the PostgreSQL router of deploy/cluster.sh: succeeds only when
# the server at $3:$4 takes writes, the test libpq's target_session_attrs=read-write makes
# (SHOW transaction_read_only). A standby says on; so does a promoted node that
# pg_auto_failover still holds read-only until the old primary's demotion timeout has passed.
# HAProxy calls it with: proxy address, proxy port, server address, server port.
set -eu
answer=$(PGCONNECT_TIMEOUT=1 /usr/bin/psql -X -q -At -c "show transaction_read_only" \
  "host=$3 port=$4 dbname=postgres user=postgres application_name=router-check" 2>/dev/null) ||
  exit 1
[ "$answer" = off ]
