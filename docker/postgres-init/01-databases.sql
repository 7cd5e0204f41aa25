-- One database per Jembatan service (each service owns its data).
-- Run once by the postgres image, as POSTGRES_USER (jembatan), on an empty data directory;
-- the services create their own tables at start. The names match docker-compose.yml's
-- JEMBATAN_DATABASE_URL_<SERVICE> values.
CREATE DATABASE jembatan_villages;
CREATE DATABASE jembatan_requests;
CREATE DATABASE jembatan_routing;
CREATE DATABASE jembatan_notifications;
CREATE DATABASE jembatan_gateway;
