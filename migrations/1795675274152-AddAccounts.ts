import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddAccounts1795675274152 implements MigrationInterface {
  name = 'AddAccounts1795675274152';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "user_emails" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "email" character varying(254) NOT NULL, "normalized_email" character varying(254) NOT NULL, "primary" boolean NOT NULL DEFAULT false, "verified" boolean NOT NULL DEFAULT false, "verified_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_3ef6c4be97ba94ea3ba65362ad0" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_user_emails_user_id" ON "user_emails"  ("user_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_user_emails_normalized_email" ON "user_emails"  ("normalized_email") ',
    );
    await queryRunner.query(
      'CREATE TABLE "login_failures" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "key" character varying(120) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8211e8ec810fd7f976b98ce97a0" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_login_failures_key_created_at" ON "login_failures"  ("key", "created_at") ',
    );
    await queryRunner.query(
      'CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "username" character varying(50) NOT NULL, "normalized_username" character varying(50) NOT NULL, "password_hash" character varying(255), "password_changed_at" TIMESTAMP WITH TIME ZONE, "is_admin" boolean NOT NULL DEFAULT false, "is_disabled" boolean NOT NULL DEFAULT false, "disabled_reason" character varying(200), "last_login_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_users_normalized_username" ON "users"  ("normalized_username") ',
    );
    await queryRunner.query(
      'CREATE TABLE "sessions" ("id" character varying(64) NOT NULL, "user_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "authenticated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "two_factor_method" character varying(20) NOT NULL DEFAULT \'none\', "data" jsonb NOT NULL DEFAULT \'{}\', "user_agent" character varying(512), CONSTRAINT "PK_3238ef96f18b355b671619111bc" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "IDX_sessions_user_id" ON "sessions"  ("user_id") ');
    await queryRunner.query(
      'CREATE TABLE "api_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "name" character varying(100) NOT NULL, "lookup" character varying(16) NOT NULL, "value_hash" character varying(64) NOT NULL, "projects" text array, "expires_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "revoked_reason" character varying(20), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c587455266b5fa8dace7194caac" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "IDX_api_tokens_user_id" ON "api_tokens"  ("user_id") ');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_api_tokens_lookup" ON "api_tokens"  ("lookup") ',
    );
    await queryRunner.query(
      'CREATE TABLE "recovery_codes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "code_hash" character varying(64) NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_0723b9e53961e799027d7f7ba32" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_recovery_codes_user_id" ON "recovery_codes"  ("user_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "totp_methods" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "secret_encrypted" character varying(255) NOT NULL, "last_time_step" bigint, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_21aa14b28603f2ceef6bc8e7950" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_totp_methods_user_id" ON "totp_methods"  ("user_id") ',
    );
    await queryRunner.query(
      'ALTER TABLE "user_emails" ADD CONSTRAINT "FK_2e88b95787b903d46ab3cc3eb91" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "sessions" ADD CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "api_tokens" ADD CONSTRAINT "FK_b74883f5884a42fd8496d389b25" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "recovery_codes" ADD CONSTRAINT "FK_fb82b2ac740ca095b617afad031" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "totp_methods" ADD CONSTRAINT "FK_26dd0e45e11653da6e9620b6fdd" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "totp_methods" DROP CONSTRAINT "FK_26dd0e45e11653da6e9620b6fdd"',
    );
    await queryRunner.query(
      'ALTER TABLE "recovery_codes" DROP CONSTRAINT "FK_fb82b2ac740ca095b617afad031"',
    );
    await queryRunner.query(
      'ALTER TABLE "api_tokens" DROP CONSTRAINT "FK_b74883f5884a42fd8496d389b25"',
    );
    await queryRunner.query(
      'ALTER TABLE "sessions" DROP CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19"',
    );
    await queryRunner.query(
      'ALTER TABLE "user_emails" DROP CONSTRAINT "FK_2e88b95787b903d46ab3cc3eb91"',
    );
    await queryRunner.query('DROP INDEX "public"."UQ_totp_methods_user_id"');
    await queryRunner.query('DROP TABLE "totp_methods"');
    await queryRunner.query('DROP INDEX "public"."IDX_recovery_codes_user_id"');
    await queryRunner.query('DROP TABLE "recovery_codes"');
    await queryRunner.query('DROP INDEX "public"."UQ_api_tokens_lookup"');
    await queryRunner.query('DROP INDEX "public"."IDX_api_tokens_user_id"');
    await queryRunner.query('DROP TABLE "api_tokens"');
    await queryRunner.query('DROP INDEX "public"."IDX_sessions_user_id"');
    await queryRunner.query('DROP TABLE "sessions"');
    await queryRunner.query('DROP INDEX "public"."UQ_users_normalized_username"');
    await queryRunner.query('DROP TABLE "users"');
    await queryRunner.query('DROP INDEX "public"."IDX_login_failures_key_created_at"');
    await queryRunner.query('DROP TABLE "login_failures"');
    await queryRunner.query('DROP INDEX "public"."UQ_user_emails_normalized_email"');
    await queryRunner.query('DROP INDEX "public"."IDX_user_emails_user_id"');
    await queryRunner.query('DROP TABLE "user_emails"');
  }
}
