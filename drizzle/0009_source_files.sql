CREATE TABLE `source_files` (
	`event_id` text PRIMARY KEY NOT NULL,
	`correlation_id` text NOT NULL,
	`source` text NOT NULL,
	`source_file` text,
	`source_sha256` text,
	`schema_version` integer NOT NULL,
	`ingested_at` integer NOT NULL,
	`projected_at` integer NOT NULL,
	`source_row` integer,
	`log_partition` integer,
	`log_offset` integer,
	`url` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`listed_at` integer,
	`fetched_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `source_files_by_sha256` ON `source_files` (`source_sha256`);--> statement-breakpoint
CREATE INDEX `source_files_by_correlation` ON `source_files` (`correlation_id`);--> statement-breakpoint
ALTER TABLE `dispatch_revisions` ADD `projected_at` integer;--> statement-breakpoint
ALTER TABLE `dispatch_revisions` ADD `log_partition` integer;--> statement-breakpoint
ALTER TABLE `dispatch_revisions` ADD `log_offset` integer;