CREATE TABLE `stream_journal` (
	`topic` text NOT NULL,
	`partition` integer NOT NULL,
	`offset` integer NOT NULL,
	`event_type` text NOT NULL,
	`region_id` text,
	`data` text NOT NULL,
	`projected_at` integer NOT NULL,
	PRIMARY KEY(`topic`, `partition`, `offset`)
);
--> statement-breakpoint
CREATE INDEX `stream_journal_by_time` ON `stream_journal` (`projected_at`);--> statement-breakpoint
CREATE TABLE `stream_journal_floor` (
	`topic` text NOT NULL,
	`partition` integer NOT NULL,
	`floor` integer NOT NULL,
	PRIMARY KEY(`topic`, `partition`)
);
