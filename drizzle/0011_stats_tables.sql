CREATE TABLE `stats_regions` (
	`metric` text NOT NULL,
	`region` text NOT NULL,
	`row_count` integer NOT NULL,
	`value_count` integer NOT NULL,
	`value_sum` real NOT NULL,
	`value_min` real,
	`value_max` real,
	PRIMARY KEY(`metric`, `region`)
);
--> statement-breakpoint
CREATE TABLE `stats_streams` (
	`stream` text NOT NULL,
	`source` text NOT NULL,
	`row_count` integer NOT NULL,
	`first_time` integer,
	`last_time` integer,
	`last_ingested` integer,
	PRIMARY KEY(`stream`, `source`)
);
--> statement-breakpoint
CREATE TABLE `stats_watermarks` (
	`stream` text PRIMARY KEY NOT NULL,
	`counted` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dead_letters_by_topic_time` ON `dead_letters` (`topic`,`failed_at`,`id`);