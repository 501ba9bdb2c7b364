-- The tables create_all made from api/models.py at commit b18b595 on postgresql (SQLAlchemy 2.1.9): a database
-- written by that release, for tests/test_migrations.py (see README.md). Frozen: do not regenerate from newer models.

CREATE TABLE sites (
	id SERIAL NOT NULL,
	name VARCHAR(200) NOT NULL,
	spec JSON NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE TABLE schedules (
	id SERIAL NOT NULL,
	site_id INTEGER NOT NULL,
	horizon_start TIMESTAMP WITH TIME ZONE NOT NULL,
	local_date VARCHAR(10) NOT NULL,
	n_steps INTEGER NOT NULL,
	status VARCHAR(20) NOT NULL,
	gap FLOAT,
	input_hash VARCHAR(64) NOT NULL,
	product_version VARCHAR(40) NOT NULL,
	solver_version VARCHAR(40) NOT NULL,
	response JSON NOT NULL,
	violations JSON NOT NULL,
	problem JSON,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(site_id) REFERENCES sites (id) ON DELETE CASCADE
);

CREATE INDEX ix_schedules_horizon_start ON schedules (horizon_start);

CREATE INDEX ix_schedules_local_date ON schedules (local_date);

CREATE INDEX ix_schedules_site_id ON schedules (site_id);

CREATE TABLE idempotency_keys (
	key VARCHAR(200) NOT NULL,
	request_hash VARCHAR(64) NOT NULL,
	schedule_id INTEGER NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (key),
	FOREIGN KEY(schedule_id) REFERENCES schedules (id) ON DELETE CASCADE
);

CREATE TABLE schedule_rows (
	id SERIAL NOT NULL,
	schedule_id INTEGER NOT NULL,
	step INTEGER NOT NULL,
	interval_start VARCHAR(40) NOT NULL,
	values JSON NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (schedule_id, step),
	FOREIGN KEY(schedule_id) REFERENCES schedules (id) ON DELETE CASCADE
);

CREATE INDEX ix_schedule_rows_schedule_id ON schedule_rows (schedule_id);

