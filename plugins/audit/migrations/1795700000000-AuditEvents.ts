import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log's table. Generated from AuditEvent, plus the two indexes TypeORM cannot
 * declare (operator classes): GIN over `additional` for `key=value` containment and GiST
 * (inet_ops) over `ip` for `ip <<= cidr`.
 */
export class AuditEvents1795700000000 implements MigrationInterface {
  name = 'AuditEvents1795700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "audit_events" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, "tag" character varying(100) NOT NULL, "actor_id" uuid, "actor_name" character varying(100), "actor_kind" character varying(20) NOT NULL, "actor_token_id" uuid, "actor_token_name" character varying(100), "actor_two_factor" character varying(20), "user_id" uuid, "project_id" uuid, "project_name" character varying(200), "ip" inet, "user_agent" character varying(512), "request_id" character varying(64), "additional" jsonb NOT NULL DEFAULT '{}', "plugin" character varying(100) NOT NULL, CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_occurred_at" ON "audit_events" ("occurred_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_actor_name_id" ON "audit_events" ("actor_name", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_actor_id_id" ON "audit_events" ("actor_id", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_tag_id" ON "audit_events" ("tag", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_project_name_id" ON "audit_events" ("project_name", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_project_id_id" ON "audit_events" ("project_id", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_user_id_id" ON "audit_events" ("user_id", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_additional" ON "audit_events" USING gin ("additional" jsonb_path_ops)`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_ip" ON "audit_events" USING gist ("ip" inet_ops)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_events"`);
  }
}
