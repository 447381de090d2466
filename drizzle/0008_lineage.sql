CREATE TABLE `api_requests` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`correlation_id` text NOT NULL,
	`at` integer NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`route` text NOT NULL,
	`status` integer NOT NULL,
	`duration_ms` real,
	`consumer` text
);
--> statement-breakpoint
CREATE INDEX `api_requests_by_correlation` ON `api_requests` (`correlation_id`,`id`);--> statement-breakpoint
CREATE TABLE `replaced_versions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` text NOT NULL,
	`replaced_at` integer NOT NULL,
	`correlation_id` text NOT NULL,
	`source` text NOT NULL,
	`source_file` text,
	`source_sha256` text,
	`source_row` integer,
	`ingested_at` integer NOT NULL,
	`projected_at` integer NOT NULL,
	`log_partition` integer,
	`log_offset` integer
);
--> statement-breakpoint
CREATE INDEX `replaced_versions_by_event` ON `replaced_versions` (`event_id`,`id`);--> statement-breakpoint
ALTER TABLE `dispatch` ADD `source_row` integer;--> statement-breakpoint
ALTER TABLE `dispatch` ADD `log_partition` integer;--> statement-breakpoint
ALTER TABLE `dispatch` ADD `log_offset` integer;--> statement-breakpoint
CREATE INDEX `dispatch_by_api_correlation` ON `dispatch` (`correlation_id`) WHERE "source" = 'api';--> statement-breakpoint
ALTER TABLE `fcas_prices` ADD `source_row` integer;--> statement-breakpoint
ALTER TABLE `fcas_prices` ADD `log_partition` integer;--> statement-breakpoint
ALTER TABLE `fcas_prices` ADD `log_offset` integer;--> statement-breakpoint
CREATE INDEX `fcas_prices_by_api_correlation` ON `fcas_prices` (`correlation_id`) WHERE "source" = 'api';--> statement-breakpoint
ALTER TABLE `interconnector_flows` ADD `source_row` integer;--> statement-breakpoint
ALTER TABLE `interconnector_flows` ADD `log_partition` integer;--> statement-breakpoint
ALTER TABLE `interconnector_flows` ADD `log_offset` integer;--> statement-breakpoint
CREATE INDEX `interconnector_flows_by_api_correlation` ON `interconnector_flows` (`correlation_id`) WHERE "source" = 'api';--> statement-breakpoint
ALTER TABLE `prices` ADD `source_row` integer;--> statement-breakpoint
ALTER TABLE `prices` ADD `log_partition` integer;--> statement-breakpoint
ALTER TABLE `prices` ADD `log_offset` integer;--> statement-breakpoint
CREATE INDEX `prices_by_api_correlation` ON `prices` (`correlation_id`) WHERE "source" = 'api';--> statement-breakpoint
ALTER TABLE `rooftop_pv` ADD `source_row` integer;--> statement-breakpoint
ALTER TABLE `rooftop_pv` ADD `log_partition` integer;--> statement-breakpoint
ALTER TABLE `rooftop_pv` ADD `log_offset` integer;--> statement-breakpoint
CREATE INDEX `rooftop_pv_by_api_correlation` ON `rooftop_pv` (`correlation_id`) WHERE "source" = 'api';--> statement-breakpoint
ALTER TABLE `scada_reconciliation` ADD `source_row` integer;--> statement-breakpoint
ALTER TABLE `scada_reconciliation` ADD `log_partition` integer;--> statement-breakpoint
ALTER TABLE `scada_reconciliation` ADD `log_offset` integer;--> statement-breakpoint
CREATE INDEX `scada_reconciliation_by_api_correlation` ON `scada_reconciliation` (`correlation_id`) WHERE "source" = 'api';--> statement-breakpoint
ALTER TABLE `weather` ADD `source_row` integer;--> statement-breakpoint
ALTER TABLE `weather` ADD `log_partition` integer;--> statement-breakpoint
ALTER TABLE `weather` ADD `log_offset` integer;--> statement-breakpoint
CREATE INDEX `weather_by_api_correlation` ON `weather` (`correlation_id`) WHERE "source" = 'api';--> statement-breakpoint
CREATE INDEX `dead_letters_by_correlation` ON `dead_letters` (`correlation_id`);