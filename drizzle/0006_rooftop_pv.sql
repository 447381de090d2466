CREATE TABLE `rooftop_pv` (
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
	`estimate_type` text NOT NULL,
	`power_mw` real NOT NULL,
	`quality_indicator` real,
	`basis` text NOT NULL,
	`sub_regions` text NOT NULL,
	`last_changed` integer,
	`preferred` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rooftop_pv_by_time` ON `rooftop_pv` (`interval_end`,`event_id`);--> statement-breakpoint
CREATE INDEX `rooftop_pv_by_region_time` ON `rooftop_pv` (`region_id`,`interval_end`,`event_id`);