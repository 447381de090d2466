CREATE TABLE `scada_reconciliation` (
	`event_id` text PRIMARY KEY NOT NULL,
	`correlation_id` text NOT NULL,
	`source` text NOT NULL,
	`source_file` text,
	`source_sha256` text,
	`schema_version` integer NOT NULL,
	`ingested_at` integer NOT NULL,
	`projected_at` integer NOT NULL,
	`interval_end` integer NOT NULL,
	`total_mw` real NOT NULL,
	`generation_mw` real NOT NULL,
	`load_mw` real NOT NULL,
	`unmapped_mw` real NOT NULL,
	`unit_count` integer NOT NULL,
	`unmapped_units` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `scada_reconciliation_by_time` ON `scada_reconciliation` (`interval_end`,`event_id`);