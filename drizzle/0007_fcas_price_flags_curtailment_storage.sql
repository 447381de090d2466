CREATE TABLE `fcas_prices` (
	`event_id` text PRIMARY KEY NOT NULL,
	`correlation_id` text NOT NULL,
	`source` text NOT NULL,
	`source_file` text,
	`source_sha256` text,
	`schema_version` integer NOT NULL,
	`ingested_at` integer NOT NULL,
	`projected_at` integer NOT NULL,
	`region_id` text NOT NULL,
	`service` text NOT NULL,
	`interval_end` integer NOT NULL,
	`price_aud_mw_h` real NOT NULL,
	`apc_flag` integer,
	`price_status` text,
	`intervention` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `fcas_prices_by_time` ON `fcas_prices` (`interval_end`,`event_id`);--> statement-breakpoint
CREATE INDEX `fcas_prices_by_region_time` ON `fcas_prices` (`region_id`,`interval_end`,`event_id`);--> statement-breakpoint
CREATE INDEX `fcas_prices_by_service_time` ON `fcas_prices` (`service`,`interval_end`,`event_id`);--> statement-breakpoint
CREATE INDEX `fcas_prices_by_region_service_time` ON `fcas_prices` (`region_id`,`service`,`interval_end`,`event_id`);--> statement-breakpoint
ALTER TABLE `prices` ADD `price_status` text;--> statement-breakpoint
ALTER TABLE `prices` ADD `apc_flag` integer;--> statement-breakpoint
ALTER TABLE `prices` ADD `market_suspended_flag` integer;--> statement-breakpoint
ALTER TABLE `prices` ADD `ocd_status` text;--> statement-breakpoint
ALTER TABLE `prices` ADD `mii_status` text;--> statement-breakpoint
ALTER TABLE `prices` ADD `ss_solar_uigf_mw` real;--> statement-breakpoint
ALTER TABLE `prices` ADD `ss_wind_uigf_mw` real;--> statement-breakpoint
ALTER TABLE `prices` ADD `ss_solar_cleared_mw` real;--> statement-breakpoint
ALTER TABLE `prices` ADD `ss_wind_cleared_mw` real;--> statement-breakpoint
ALTER TABLE `prices` ADD `bdu_cleared_gen_mw` real;--> statement-breakpoint
ALTER TABLE `prices` ADD `bdu_cleared_load_mw` real;--> statement-breakpoint
ALTER TABLE `prices` ADD `bdu_energy_storage_mwh` real;--> statement-breakpoint
ALTER TABLE `prices` ADD `solar_curtailment_mw` real;--> statement-breakpoint
ALTER TABLE `prices` ADD `wind_curtailment_mw` real;--> statement-breakpoint
ALTER TABLE `prices` ADD `curtailment_mw` real;