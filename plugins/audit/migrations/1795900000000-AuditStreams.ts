import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Streaming destinations and the outbox (streams/stream.entities.ts). */
export class AuditStreams1795900000000 implements MigrationInterface {
  name = 'AuditStreams1795900000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "audit_stream_destinations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(100) NOT NULL, "kind" character varying(10) NOT NULL, "target" text NOT NULL, "tag_prefixes" text array NOT NULL, "secret_sealed" text, "paused" boolean NOT NULL DEFAULT false, "delivered" bigint NOT NULL DEFAULT '0', "last_success_at" TIMESTAMP WITH TIME ZONE, "last_error" text, "last_error_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_audit_stream_destinations" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_audit_stream_destinations_name" ON "audit_stream_destinations" ("name") `,
    );
    await queryRunner.query(
      `CREATE TABLE "audit_outbox" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "destination_id" uuid NOT NULL, "event_id" bigint NOT NULL, "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_error" text, CONSTRAINT "PK_audit_outbox" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_outbox_next_attempt_at" ON "audit_outbox" ("next_attempt_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_outbox_destination_id_id" ON "audit_outbox" ("destination_id", "id") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_outbox"`);
    await queryRunner.query(`DROP TABLE "audit_stream_destinations"`);
  }
}
