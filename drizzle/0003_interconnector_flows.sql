CREATE TABLE `interconnector_flows` (
	`event_id` text PRIMARY KEY NOT NULL,
	`correlation_id` text NOT NULL,
	`source` text NOT NULL,
	`source_file` text,
	`source_sha256` text,
	`schema_version` integer NOT NULL,
	`ingested_at` integer NOT NULL,
	`projected_at` integer NOT NULL,
	`interconnector_id` text NOT NULL,
	`interval_end` integer NOT NULL,
	`mw_flow` real NOT NULL,
	`metered_mw_flow` real,
	`mw_losses` real,
	`export_limit_mw` real,
	`import_limit_mw` real,
	`intervention` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `interconnector_flows_by_time` ON `interconnector_flows` (`interval_end`,`event_id`);--> statement-breakpoint
CREATE INDEX `interconnector_flows_by_id_time` ON `interconnector_flows` (`interconnector_id`,`interval_end`,`event_id`);