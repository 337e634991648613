-- The databases of the compose stack beside the monolith's `techgoods` (POSTGRES_DB, created by the
-- image): the inventory service's own and the router's control store. One server, one database each,
-- so no process reads another's tables by accident. docker-compose.yml mounts this file into
-- /docker-entrypoint-initdb.d, which the postgres image runs once, on an empty data volume only: a
-- volume made by an older compose file lacks these two (`docker compose down -v` starts afresh).
CREATE DATABASE inventory OWNER techgoods;
CREATE DATABASE strangler OWNER techgoods;
