-- The tables create_all made from api/models.py at commit d04bcff on postgresql (SQLAlchemy 2.1.9): a database
-- written by that release, for tests/test_migrations.py (see README.md). Frozen: do not regenerate from newer models.

CREATE TABLE sites (
	id SERIAL NOT NULL,
	name VARCHAR(200) NOT NULL,
	spec JSON NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE TABLE account_days (
	id SERIAL NOT NULL,
	site_id INTEGER NOT NULL,
	day DATE NOT NULL,
	pv_available_kwh FLOAT NOT NULL,
	pv_output_kwh FLOAT NOT NULL,
	import_kwh FLOAT NOT NULL,
	export_kwh FLOAT NOT NULL,
	green_kwh FLOAT NOT NULL,
	contracts_kwh JSON NOT NULL,
	emissions_location_kgco2 FLOAT NOT NULL,
	emissions_market_kgco2 FLOAT NOT NULL,
	source VARCHAR(10) NOT NULL,
	detail TEXT NOT NULL,
	uploads_seen INTEGER NOT NULL,
	recorded_at TIMESTAMP WITH TIME ZONE NOT NULL,
	gas_nm3 FLOAT,
	purchased_heat_gj FLOAT,
	fuel_source VARCHAR(10),
	PRIMARY KEY (id),
	FOREIGN KEY(site_id) REFERENCES sites (id) ON DELETE CASCADE
);

CREATE INDEX ix_account_days_site_day ON account_days (site_id, day);

CREATE TABLE meter_series (
	id SERIAL NOT NULL,
	site_id INTEGER NOT NULL,
	name VARCHAR(200) NOT NULL,
	kind VARCHAR(10) NOT NULL,
	unit VARCHAR(20) NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (site_id, name),
	FOREIGN KEY(site_id) REFERENCES sites (id) ON DELETE CASCADE
);

CREATE INDEX ix_meter_series_site_id ON meter_series (site_id);

CREATE TABLE reading_uploads (
	id SERIAL NOT NULL,
	site_id INTEGER NOT NULL,
	received_at TIMESTAMP WITH TIME ZONE NOT NULL,
	n_readings INTEGER NOT NULL,
	ranges JSON NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(site_id) REFERENCES sites (id) ON DELETE CASCADE
);

CREATE INDEX ix_reading_uploads_site_id ON reading_uploads (site_id);

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
	horizon_end TIMESTAMP WITH TIME ZONE,
	plan_kind VARCHAR(20),
	problem JSON,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(site_id) REFERENCES sites (id) ON DELETE CASCADE
);

CREATE INDEX ix_schedules_horizon_start ON schedules (horizon_start);

CREATE INDEX ix_schedules_local_date ON schedules (local_date);

CREATE INDEX ix_schedules_site_id ON schedules (site_id);

CREATE TABLE weather_forecasts (
	id SERIAL NOT NULL,
	site_id INTEGER NOT NULL,
	issued_at TIMESTAMP WITH TIME ZONE NOT NULL,
	valid_from TIMESTAMP WITH TIME ZONE NOT NULL,
	valid_until TIMESTAMP WITH TIME ZONE NOT NULL,
	source VARCHAR(400) NOT NULL,
	payload JSON NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(site_id) REFERENCES sites (id) ON DELETE CASCADE
);

CREATE INDEX ix_weather_forecasts_issued_at ON weather_forecasts (issued_at);

CREATE INDEX ix_weather_forecasts_site_id ON weather_forecasts (site_id);

CREATE TABLE idempotency_keys (
	key VARCHAR(200) NOT NULL,
	request_hash VARCHAR(64) NOT NULL,
	schedule_id INTEGER NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (key),
	FOREIGN KEY(schedule_id) REFERENCES schedules (id) ON DELETE CASCADE
);

CREATE TABLE readings (
	series_id INTEGER NOT NULL,
	time TIMESTAMP WITH TIME ZONE NOT NULL,
	value FLOAT NOT NULL,
	PRIMARY KEY (series_id, time),
	FOREIGN KEY(series_id) REFERENCES meter_series (id) ON DELETE CASCADE
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

