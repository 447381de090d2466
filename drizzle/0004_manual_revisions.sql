CREATE TABLE `dispatch_revisions` (
	`event_id` text PRIMARY KEY NOT NULL,
	`region_id` text NOT NULL,
	`fuel_type` text NOT NULL,
	`interval_end` integer NOT NULL,
	`revision` integer NOT NULL,
	`value_mw` real NOT NULL,
	`previous_value_mw` real,
	`written_by` text,
	`written_at` integer NOT NULL,
	`correlation_id` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dispatch_revisions_slot` ON `dispatch_revisions` (`region_id`,`fuel_type`,`interval_end`,`revision`);--> statement-breakpoint
ALTER TABLE `dispatch` ADD `revision` integer;--> statement-breakpoint
ALTER TABLE `dispatch` ADD `written_by` text;--> statement-breakpoint
ALTER TABLE `dispatch` ADD `previous_value_mw` real;--> statement-breakpoint
CREATE UNIQUE INDEX `dispatch_manual_key` ON `dispatch` (`region_id`,`fuel_type`,`interval_end`) WHERE source = 'api';--> statement-breakpoint
-- Hand-written: manual rows projected before revisions existed become revision 1 of their key, so a
-- later different write to them is a conflict (409) instead of a silent overwrite.
UPDATE `dispatch` SET `revision` = 1 WHERE source = 'api';--> statement-breakpoint
INSERT INTO `dispatch_revisions` (`event_id`, `region_id`, `fuel_type`, `interval_end`, `revision`, `value_mw`, `previous_value_mw`, `written_by`, `written_at`, `correlation_id`)
SELECT `event_id`, `region_id`, `fuel_type`, `interval_end`, 1, `value_mw`, NULL, NULL, `ingested_at`, `correlation_id` FROM `dispatch` WHERE source = 'api';
