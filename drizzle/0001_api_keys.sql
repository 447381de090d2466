CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`consumer` text NOT NULL,
	`scope` text NOT NULL,
	`secret_sha256` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
