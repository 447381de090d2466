CREATE TABLE `checkpoints` (
	`consumer` text NOT NULL,
	`topic` text NOT NULL,
	`partition` integer NOT NULL,
	`next_offset` integer NOT NULL,
	PRIMARY KEY(`consumer`, `topic`, `partition`)
);
--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`topic` text NOT NULL,
	`code` text NOT NULL,
	`reason` text NOT NULL,
	`correlation_id` text,
	`source` text NOT NULL,
	`source_file` text,
	`row` integer,
	`raw` text NOT NULL,
	`failed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dead_letters_by_time` ON `dead_letters` (`failed_at`,`id`);--> statement-breakpoint
CREATE TABLE `dispatch` (
	`event_id` text PRIMARY KEY NOT NULL,
	`correlation_id` text NOT NULL,
	`source` text NOT NULL,
	`source_file` text,
	`source_sha256` text,
	`schema_version` integer NOT NULL,
	`ingested_at` integer NOT NULL,
	`projected_at` integer NOT NULL,
	`region_id` text NOT NULL,
	`fuel_type` text NOT NULL,
	`interval_end` integer NOT NULL,
	`value_mw` real NOT NULL,
	`unit_count` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dispatch_by_time` ON `dispatch` (`interval_end`,`event_id`);--> statement-breakpoint
CREATE INDEX `dispatch_by_region_time` ON `dispatch` (`region_id`,`interval_end`,`event_id`);--> statement-breakpoint
CREATE INDEX `dispatch_by_fuel_time` ON `dispatch` (`fuel_type`,`interval_end`,`event_id`);--> statement-breakpoint
CREATE TABLE `prices` (
	`event_id` text PRIMARY KEY NOT NULL,
	`correlation_id` text NOT NULL,
	`source` text NOT NULL,
	`source_file` text,
	`source_sha256` text,
	`schema_version` integer NOT NULL,
	`ingested_at` integer NOT NULL,
	`projected_at` integer NOT NULL,
	`region_id` text NOT NULL,
	`interval_end` integer NOT NULL,
	`rrp_aud_mwh` real NOT NULL,
	`total_demand_mw` real,
	`available_generation_mw` real,
	`net_interchange_mw` real,
	`intervention` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `prices_by_time` ON `prices` (`interval_end`,`event_id`);--> statement-breakpoint
CREATE INDEX `prices_by_region_time` ON `prices` (`region_id`,`interval_end`,`event_id`);--> statement-breakpoint
CREATE TABLE `weather` (
	`event_id` text PRIMARY KEY NOT NULL,
	`correlation_id` text NOT NULL,
	`source` text NOT NULL,
	`source_file` text,
	`source_sha256` text,
	`schema_version` integer NOT NULL,
	`ingested_at` integer NOT NULL,
	`projected_at` integer NOT NULL,
	`region_id` text NOT NULL,
	`location` text NOT NULL,
	`latitude` real NOT NULL,
	`longitude` real NOT NULL,
	`observed_at` integer NOT NULL,
	`temperature_c` real,
	`relative_humidity_pct` real,
	`wind_speed_kmh` real,
	`wind_direction_deg` real,
	`cloud_cover_pct` real,
	`shortwave_radiation_wm2` real
);
--> statement-breakpoint
CREATE INDEX `weather_by_time` ON `weather` (`observed_at`,`event_id`);--> statement-breakpoint
CREATE INDEX `weather_by_region_time` ON `weather` (`region_id`,`observed_at`,`event_id`);